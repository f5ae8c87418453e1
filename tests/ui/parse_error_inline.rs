netc::net! {
    model broken {
        input 2
        dense 8 tanh
        dense 2
        loss softmax
    }
    train { epochs 10 batch = }
}

fn main() {}
