netc::net! {
    model later {
        input 2
        batchnorm
        dense 2
        loss softmax
    }
}

fn main() {}
