netc::net! {
    model twice {
        input 2
        dense 8 tanhh
        dense 2 init=xavierr
        loss softmax
    }
}

fn main() {}
