netc::net! {
    model later {
        input 2
        dense 8 relu
        dense 2
        loss softmax
    }
    ensemble bagging 3
}

fn main() {}
