netc::net! {
    model typo {
        input 2
        dense 8 rleu
        dense 2
        loss softmax
    }
}

fn main() {}
