//! The gradient check's axes and their full product: layer stack × activation × loss ×
//! regularizer, and the models that contain them. Shared by the build script (one
//! `precision f64` model per `ModelSpec`) and the test (the layer list drives its reference forward pass). No dependencies: the build
//! script includes this file with `#[path]`.

#![allow(dead_code)]

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    Identity,
    Relu,
    Tanh,
    Sigmoid,
}

impl Activation {
    pub const ALL: [Activation; 4] = [
        Activation::Identity,
        Activation::Relu,
        Activation::Tanh,
        Activation::Sigmoid,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Activation::Identity => "identity",
            Activation::Relu => "relu",
            Activation::Tanh => "tanh",
            Activation::Sigmoid => "sigmoid",
        }
    }
}

/// The layer-type axis. Every stack has four hidden dense layers, one per activation, and
/// the output layer. "Unrolled" stacks keep
/// every layer at ≤ 16 units and inputs (straight-line code), "gemm" stacks have every layer
/// over 16 inputs or units (the GEMM path). "Looped" stacks have the unrolled shapes but are
/// generated with no unroll budget: tiny layers on the GEMM path, as a model past the budget
/// gets them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stack {
    DenseUnrolled,
    DenseGemm,
    DenseLooped,
    /// `dropout` after the input and after the first hidden dense layer.
    DropoutUnrolled,
    DropoutGemm,
    /// `batchnorm` after each hidden dense layer (training mode: batch statistics).
    BatchnormUnrolled,
    BatchnormGemm,
}

impl Stack {
    pub const ALL: [Stack; 7] = [
        Stack::DenseUnrolled,
        Stack::DenseGemm,
        Stack::DropoutUnrolled,
        Stack::DropoutGemm,
        Stack::BatchnormUnrolled,
        Stack::BatchnormGemm,
        Stack::DenseLooped,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Stack::DenseUnrolled => "dense_unrolled",
            Stack::DenseGemm => "dense_gemm",
            Stack::DenseLooped => "dense_looped",
            Stack::DropoutUnrolled => "dropout_unrolled",
            Stack::DropoutGemm => "dropout_gemm",
            Stack::BatchnormUnrolled => "batchnorm_unrolled",
            Stack::BatchnormGemm => "batchnorm_gemm",
        }
    }

    /// Generated with an unroll budget of 0.
    pub fn looped(self) -> bool {
        self == Stack::DenseLooped
    }

    fn gemm(self) -> bool {
        matches!(
            self,
            Stack::DenseGemm | Stack::DropoutGemm | Stack::BatchnormGemm
        )
    }

    /// (input features, hidden widths, batch).
    fn shape(self) -> (usize, [usize; 4], usize) {
        if self.gemm() {
            (5, [17, 18, 17, 18], 8)
        } else {
            (4, [6, 5, 6, 5], 6)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Loss {
    Softmax,
    /// Three sigmoid units against a one-hot class label.
    LogisticOneVsAll,
    /// One sigmoid unit against a 0/1 label.
    LogisticSingle,
    /// Three sigmoid units against three 0/1 value targets.
    LogisticMultiLabel,
    /// One output unit against the label read as a number.
    MseSingle,
    /// Three output units against three value targets.
    MseMulti,
}

impl Loss {
    pub const ALL: [Loss; 6] = [
        Loss::Softmax,
        Loss::LogisticOneVsAll,
        Loss::LogisticSingle,
        Loss::LogisticMultiLabel,
        Loss::MseSingle,
        Loss::MseMulti,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Loss::Softmax => "softmax",
            Loss::LogisticOneVsAll => "logistic_ovr",
            Loss::LogisticSingle => "logistic_single",
            Loss::LogisticMultiLabel => "logistic_multilabel",
            Loss::MseSingle => "mse_single",
            Loss::MseMulti => "mse_multi",
        }
    }

    pub fn outputs(self) -> usize {
        match self {
            Loss::LogisticSingle | Loss::MseSingle => 1,
            _ => 3,
        }
    }

    /// Targets are `outputs()` values per sample rather than one class label.
    pub fn value_targets(self) -> bool {
        matches!(self, Loss::LogisticMultiLabel | Loss::MseMulti)
    }

    /// mse reads the output after the last layer's activation; softmax and logistic apply
    /// their own link and refuse an activation there.
    pub fn output_activation(self, hidden: Activation) -> Activation {
        match self {
            Loss::MseSingle | Loss::MseMulti => hidden,
            _ => Activation::Identity,
        }
    }

    fn keyword(self) -> &'static str {
        match self {
            Loss::Softmax => "softmax",
            Loss::LogisticOneVsAll | Loss::LogisticSingle | Loss::LogisticMultiLabel => "logistic",
            Loss::MseSingle | Loss::MseMulti => "mse",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Regularizer {
    pub l2: bool,
    pub l1: bool,
    pub include_bias: bool,
}

/// The coefficients every regularized combination uses: large enough that the penalty's
/// gradient is of the data gradient's order.
pub const L2: f64 = 0.03;
pub const L1: f64 = 0.02;

impl Regularizer {
    pub fn all() -> Vec<Regularizer> {
        let mut all = Vec::new();
        for include_bias in [false, true] {
            for (l2, l1) in [(false, false), (true, false), (false, true), (true, true)] {
                all.push(Regularizer {
                    l2,
                    l1,
                    include_bias,
                });
            }
        }
        all
    }

    pub fn name(self) -> String {
        let mut parts = Vec::new();
        if self.l2 {
            parts.push("l2");
        }
        if self.l1 {
            parts.push("l1");
        }
        if parts.is_empty() {
            parts.push("none");
        }
        if self.include_bias {
            parts.push("bias");
        }
        parts.join("_")
    }
}

/// One layer of a combination's model, in spec order (what the reference forward pass runs).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Layer {
    Dense {
        inputs: usize,
        units: usize,
        activation: Activation,
    },
    Dropout {
        p: f64,
    },
    BatchNorm {
        eps: f64,
    },
}

pub const BATCHNORM_EPS: f64 = 1e-5;

/// One combination of the four axes: what the issue asks to check.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Combination {
    pub stack: Stack,
    pub activation: Activation,
    pub loss: Loss,
    pub regularizer: Regularizer,
}

impl Combination {
    /// The full product, in a fixed order.
    pub fn all() -> Vec<Combination> {
        let mut all = Vec::new();
        for stack in Stack::ALL {
            for activation in Activation::ALL {
                for loss in Loss::ALL {
                    for regularizer in Regularizer::all() {
                        all.push(Combination {
                            stack,
                            activation,
                            loss,
                            regularizer,
                        });
                    }
                }
            }
        }
        all
    }

    pub fn name(&self) -> String {
        format!(
            "{} {} {} {}",
            self.stack.name(),
            self.activation.name(),
            self.loss.name(),
            self.regularizer.name()
        )
    }

    /// The compiled model that contains this combination: same stack and loss, the
    /// activation on one of its hidden layers, `include_bias` as written; l2 and l1 are
    /// runtime hyperparameters of that model, set to 0 where the combination has none.
    pub fn model(&self) -> ModelSpec {
        ModelSpec {
            stack: self.stack,
            loss: self.loss,
            include_bias: self.regularizer.include_bias,
        }
    }

    /// (λ₂, λ₁) of the run that checks this combination.
    pub fn coefficients(&self) -> (f64, f64) {
        let r = self.regularizer;
        (if r.l2 { L2 } else { 0.0 }, if r.l1 { L1 } else { 0.0 })
    }
}

/// What is compiled: one model per stack × loss × `include_bias`, with `regularize l2 l1`
/// (both coefficients are hyperparameters, so one model runs every l2/l1 choice) and the four
/// activations on its four hidden layers. Compiling the full product (1152 models) costs
/// about a second of opt-level-3 compile time each; this set is 72.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModelSpec {
    pub stack: Stack,
    pub loss: Loss,
    pub include_bias: bool,
}

impl ModelSpec {
    pub fn all() -> Vec<ModelSpec> {
        let mut all = Vec::new();
        for stack in Stack::ALL {
            for loss in Loss::ALL {
                for include_bias in [false, true] {
                    all.push(ModelSpec {
                        stack,
                        loss,
                        include_bias,
                    });
                }
            }
        }
        all
    }

    /// The model (and Rust module) name: `gc_<stack>_<loss>[_bias]`.
    pub fn name(&self) -> String {
        let bias = if self.include_bias { "_bias" } else { "" };
        format!("gc_{}_{}{bias}", self.stack.name(), self.loss.name())
    }

    pub fn input(&self) -> usize {
        self.stack.shape().0
    }

    pub fn batch(&self) -> usize {
        self.stack.shape().2
    }

    /// Hidden layer i's activation: the four rotated by the model's position in the
    /// product, so each activation sits next to the output (and, for mse, on the output
    /// layer) in some model of every loss.
    pub fn activations(&self) -> [Activation; 5] {
        let stack = Stack::ALL
            .iter()
            .position(|s| *s == self.stack)
            .unwrap_or(0);
        let loss = Loss::ALL.iter().position(|l| *l == self.loss).unwrap_or(0);
        let shift = stack + loss + usize::from(self.include_bias);
        std::array::from_fn(|i| Activation::ALL[(i + shift) % 4])
    }

    pub fn layers(&self) -> Vec<Layer> {
        let (input, hidden, _) = self.stack.shape();
        let dropout = matches!(self.stack, Stack::DropoutUnrolled | Stack::DropoutGemm);
        let batchnorm = matches!(self.stack, Stack::BatchnormUnrolled | Stack::BatchnormGemm);
        let activations = self.activations();
        let mut layers = Vec::new();
        if dropout {
            layers.push(Layer::Dropout { p: 0.25 });
        }
        let mut inputs = input;
        for (i, units) in hidden.into_iter().enumerate() {
            layers.push(Layer::Dense {
                inputs,
                units,
                activation: activations[i],
            });
            if dropout && i % 2 == 0 {
                layers.push(Layer::Dropout { p: 0.4 });
            }
            if batchnorm {
                layers.push(Layer::BatchNorm { eps: BATCHNORM_EPS });
            }
            inputs = units;
        }
        layers.push(Layer::Dense {
            inputs,
            units: self.loss.outputs(),
            activation: self.loss.output_activation(activations[4]),
        });
        layers
    }

    /// The `.net` text of the model.
    pub fn spec(&self) -> String {
        let mut model = format!("model {} {{\n    input {}\n", self.name(), self.input());
        for layer in self.layers() {
            match layer {
                Layer::Dense {
                    units, activation, ..
                } => model.push_str(&format!("    dense {units} {}\n", activation.name())),
                Layer::Dropout { p } => model.push_str(&format!("    dropout {p}\n")),
                Layer::BatchNorm { eps } => model.push_str(&format!("    batchnorm eps={eps}\n")),
            }
        }
        model.push_str(&format!("    loss {}\n}}\n", self.loss.keyword()));
        if self.loss.value_targets() {
            // Value targets are declared by their data source; the file is never read here.
            model.push_str("data { train csv(\"targets.csv\", targets=-3..-1) }\n");
        }
        let bias = if self.include_bias {
            " include_bias"
        } else {
            ""
        };
        model.push_str(&format!(
            "train {{ batch {} optimizer sgd learning_rate 0.1 regularize l2({L2}) l1({L1}){bias} precision f64 seed 7 }}\n",
            self.batch()
        ));
        model
    }
}
