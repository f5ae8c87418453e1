netc::net! {
    model later {
        input 2
        dense 8 relu
        dense 2
        loss softmax
    }
    train { precision f64 }
}

fn main() {}
