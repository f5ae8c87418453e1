//! What codegen decides before emitting anything: per-layer names, sizes and code shapes.
//! Every identifier that reaches generated code is made here, from validated IR names or
//! from fixed prefixes and numbers.

use netc_sema::ir;
use netc_syntax::{Diagnostic, ErrorCode};
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

/// Layers with at most this many units and inputs get fully unrolled straight-line code...
pub const UNROLL_MAX: usize = 16;
/// ...while the model's unrolled multiply-adds (inputs × units, summed in spec order) stay
/// within this budget; later small layers take the GEMM path (same results). Unrolled code
/// is ~3·in·out terms per layer (forward, weight and input gradients): 768 for a 16 × 16
/// layer, where the GEMM path is a few loops. 1,024 = four 16 × 16 layers.
pub const UNROLL_BUDGET: usize = 1024;
/// The spec's `preprocess`, if it has one.
pub fn preprocess(net: &ir::Network) -> Option<ir::PreprocessKind> {
    net.data
        .as_ref()
        .map(|d| d.preprocess.kind)
        .filter(|k| *k != ir::PreprocessKind::None)
}

/// `batch full`: rows per `gradient` call when the runtime sums the whole training set.
/// Sema's memory estimate sizes the buffers by the same constant.
pub const FULL_BATCH_CHUNK: usize = netc_sema::memory::FULL_BATCH_CHUNK;
/// Buffers up to this many floats live inline in the model struct; larger ones are boxed
/// (a large inline array would be built on the stack in `new`).
pub const INLINE_MAX: usize = 4096;

pub struct Plan<'n> {
    pub net: &'n ir::Network,
    pub rt: syn::Path,
    pub name: Ident,
    pub batch: usize,
    pub dense: Vec<DensePlan>,
    pub optimizer: OptimizerPlan,
    /// `dropout` directly after `input`: the step reads the masked copy `xd`.
    pub input_dropout: Option<DropoutPlan>,
    /// `preprocess`: the input rows are normalized into this `[[F; INPUT]; BATCH]` buffer.
    pub normalized_input: Option<Ident>,
    /// `preprocess`: the input stage's `[F; INPUT]` shift and scale (x' = (x − shift)·scale),
    /// persistent tensors `input.shift` / `input.scale` filled by the driver from the training
    /// split.
    pub input_stage: Option<(Ident, Ident)>,
}

/// Inverted dropout on one layer's output (or on the input).
pub struct DropoutPlan {
    pub p: f64,
    /// The `Hyper` field holding p.
    pub field: Ident,
    /// Per-step locals: keep probability, kept-unit scale 1/(1−p), drop threshold on u32 bits.
    pub keep: Ident,
    pub scale: Ident,
    pub threshold: Ident,
    /// The mask buffer `[[f32; OUT]; BATCH]` (0 or 1/(1−p)); for the input, the masked input.
    pub mask: Ident,
    /// Further `dropout` layers directly after this one (p, `Hyper` field): merged into one
    /// mask with keep = Π(1−pᵢ), distributed exactly as independent inverted-dropout masks.
    pub chained: Vec<(f64, Ident)>,
    /// Units masked per sample.
    pub units: usize,
    /// Mask draws per sample of the dropouts before this one in the forward pass: a step's
    /// draws are laid out dropout by dropout, then sample by sample, so sample `i` of a batch
    /// of `b` starts at draw `offset·b + i·units` of this dropout — wherever the sample is
    /// computed (the data-parallel share of one rank draws exactly its samples' masks).
    pub offset: usize,
}

/// The optimizer the update pass implements (lbfgs/newton are rejected by `support`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum OptimizerPlan {
    Sgd,
    /// Classical momentum, or Nesterov's lookahead form; μ may ramp.
    Momentum {
        mu: ir::MomentumSchedule,
        nesterov: bool,
    },
    Adagrad {
        eps: f64,
    },
    Rmsprop {
        decay: f64,
        eps: f64,
    },
    Adam {
        beta1: f64,
        beta2: f64,
        eps: f64,
    },
}

impl OptimizerPlan {
    /// Per-parameter state buffers: velocity/cache/first moment (`v*`), second moment (`s*`).
    pub fn state_buffers(self) -> usize {
        match self {
            OptimizerPlan::Sgd => 0,
            OptimizerPlan::Momentum { .. }
            | OptimizerPlan::Adagrad { .. }
            | OptimizerPlan::Rmsprop { .. } => 1,
            OptimizerPlan::Adam { .. } => 2,
        }
    }
}

pub struct DensePlan {
    /// Index among the spec's layers (checkpoint name `layers.N.*`).
    pub spec_index: usize,
    pub inputs: usize,
    pub outputs: usize,
    pub activation: ir::Activation,
    pub init: ir::Init,
    pub bias_init: ir::Init,
    /// Fully unrolled per-sample code instead of GEMM calls.
    pub unrolled: bool,
    pub in_const: Ident,
    pub out_const: Ident,
    /// Weights `[[f32; IN]; OUT]`, bias `[f32; OUT]`, their gradients and optimizer state
    /// (`v*`: velocity, cache or first moment; `s*`: Adam's second moment).
    pub w: Ident,
    pub b: Ident,
    pub gw: Ident,
    pub gb: Ident,
    pub vw: Ident,
    pub vb: Ident,
    pub sw: Ident,
    pub sb: Ident,
    /// Activations `[[f32; OUT]; BATCH]` and the loss gradient w.r.t. the pre-activation.
    pub y: Ident,
    pub dz: Ident,
    /// Dropout applied to this layer's output in training (`y` then holds the masked output).
    pub dropout: Option<DropoutPlan>,
    /// `batchnorm` after this layer (after `dropout`, if any).
    pub batchnorm: Option<crate::batchnorm::BatchNormPlan>,
}

impl<'n> Plan<'n> {
    pub fn new(net: &'n ir::Network, opts: &crate::Options) -> Result<Self, Vec<Diagnostic>> {
        let name = model_ident(&net.model)?;
        let batch = match net.train.batch.size {
            ir::BatchSize::Size(n) => n,
            // Full batch: the runtime visits the training set in chunks of this many rows.
            ir::BatchSize::Full => FULL_BATCH_CHUNK,
        };
        let mut dense: Vec<DensePlan> = Vec::new();
        let mut input_dropout = None;
        let dropout_names = crate::dropout::field_names(net);
        let mut after_dropout = false;
        let mut unroll_budget = opts.unroll_budget;
        for (spec_index, layer) in net.model.layers.iter().enumerate() {
            let was_dropout = std::mem::replace(
                &mut after_dropout,
                matches!(layer.kind, ir::LayerKind::Dropout { .. }),
            );
            if let ir::LayerKind::Dropout { p } = layer.kind {
                let field = format_ident!("{}", dropout_names[&spec_index]);
                // Where the dropout applies: the input, a dense output, or a batch norm's.
                let slot = match dense.last_mut() {
                    Some(prev) => match &mut prev.batchnorm {
                        Some(bn) => &mut bn.dropout,
                        None => &mut prev.dropout,
                    },
                    None => &mut input_dropout,
                };
                match slot {
                    Some(first) if was_dropout => first.chained.push((p, field)),
                    _ => *slot = Some(crate::dropout::plan(p, field, spec_index, layer.outputs)),
                }
                continue;
            }
            if let ir::LayerKind::BatchNorm { momentum, eps } = layer.kind {
                // `support` rejects a batch norm without a dense layer before it, or a second
                // one on the same dense layer.
                if let Some(prev) = dense.last_mut() {
                    prev.batchnorm = Some(crate::batchnorm::plan(spec_index, momentum, eps));
                }
                continue;
            }
            if let ir::LayerKind::Dense {
                activation,
                init,
                bias_init,
                ..
            } = layer.kind
            {
                let i = dense.len();
                let macs = layer.inputs * layer.outputs;
                let unrolled = layer.outputs <= UNROLL_MAX
                    && layer.inputs <= UNROLL_MAX
                    && macs <= unroll_budget;
                if unrolled {
                    unroll_budget -= macs;
                }
                dense.push(DensePlan {
                    spec_index,
                    inputs: layer.inputs,
                    outputs: layer.outputs,
                    activation,
                    init,
                    bias_init,
                    unrolled,
                    in_const: format_ident!("L{}_IN", i),
                    out_const: format_ident!("L{}_OUT", i),
                    w: format_ident!("w{}", i),
                    b: format_ident!("b{}", i),
                    gw: format_ident!("gw{}", i),
                    gb: format_ident!("gb{}", i),
                    vw: format_ident!("vw{}", i),
                    vb: format_ident!("vb{}", i),
                    sw: format_ident!("sw{}", i),
                    sb: format_ident!("sb{}", i),
                    y: format_ident!("y{}", i),
                    dz: format_ident!("dz{}", i),
                    dropout: None,
                    batchnorm: None,
                });
            }
        }
        crate::dropout::lay_out(input_dropout.as_mut(), &mut dense);
        let optimizer = match net.train.optimizer.kind {
            ir::OptimizerKind::Momentum { mu } => OptimizerPlan::Momentum {
                mu,
                nesterov: false,
            },
            ir::OptimizerKind::Nesterov { mu } => OptimizerPlan::Momentum { mu, nesterov: true },
            ir::OptimizerKind::Adagrad { eps } => OptimizerPlan::Adagrad { eps },
            ir::OptimizerKind::Rmsprop { decay, eps } => OptimizerPlan::Rmsprop { decay, eps },
            ir::OptimizerKind::Adam { beta1, beta2, eps } => {
                OptimizerPlan::Adam { beta1, beta2, eps }
            }
            // Rejected by `support`; keep a value so this function stays total.
            ir::OptimizerKind::Sgd
            | ir::OptimizerKind::Lbfgs { .. }
            | ir::OptimizerKind::Newton { .. } => OptimizerPlan::Sgd,
        };
        Ok(Plan {
            net,
            rt: opts.runtime_path.clone(),
            name,
            batch,
            dense,
            optimizer,
            input_dropout,
            normalized_input: preprocess(net).is_some().then(|| format_ident!("xf")),
            input_stage: preprocess(net)
                .is_some()
                .then(|| (format_ident!("input_shift"), format_ident!("input_scale"))),
        })
    }

    pub fn output_layer(&self) -> &DensePlan {
        // `support` guarantees at least one dense layer and that the last layer is dense.
        &self.dense[self.dense.len() - 1]
    }
}

/// The model name as an identifier. Sema guarantees a valid Rust identifier; this re-check
/// keeps an IR built by hand (or a sema bug) from ever splicing arbitrary text into code.
pub fn model_ident(model: &ir::Model) -> Result<Ident, Vec<Diagnostic>> {
    if is_plain_ident(&model.name)
        && let Ok(ident) = syn::parse_str::<Ident>(&model.name)
    {
        return Ok(Ident::new(&ident.to_string(), Span::call_site()));
    }
    Err(vec![
        Diagnostic::error(
            ErrorCode::InvalidName,
            format!("model name `{}` is not a valid Rust module name", model.name.escape_debug()),
        )
        .with_primary(model.name_span, "used as the generated module's name")
        .with_note("use lowercase letters, digits and `_`, starting with a letter or `_`, and not a Rust keyword"),
    ])
}

/// `[a-z_][a-z0-9_]*`, and not `_` alone (not a usable module name).
pub fn is_plain_ident(name: &str) -> bool {
    let mut chars = name.chars();
    let first_ok = matches!(chars.next(), Some('a'..='z' | '_'));
    first_ok && name != "_" && chars.all(|c| matches!(c, 'a'..='z' | '0'..='9' | '_'))
}

/// An unsuffixed float literal: generated arithmetic takes the model's float type `F` from
/// the context (a field or binding of type `F`), so one literal serves both precisions.
pub fn float_lit(value: f64) -> TokenStream {
    if value.is_finite() {
        let lit = proc_macro2::Literal::f64_unsuffixed(value);
        quote!(#lit)
    } else if value.is_nan() {
        quote!(F::NAN)
    } else if value > 0.0 {
        quote!(F::INFINITY)
    } else {
        quote!(F::NEG_INFINITY)
    }
}

/// The generated module's float type and matrix products for `precision f32 | f64`.
pub fn precision_items(net: &ir::Network) -> TokenStream {
    match net.train.precision.kind {
        ir::PrecisionKind::F32 => quote! {
            /// The float type this model computes in (`precision f32`).
            pub type F = f32;
            #[allow(unused_imports)]
            use rt::gemm as blas;
        },
        ir::PrecisionKind::F64 => quote! {
            /// The float type this model computes in (`precision f64`).
            pub type F = f64;
            #[allow(unused_imports)]
            use rt::gemm::f64 as blas;
        },
    }
}

/// An `f32` literal with a suffix (run-configuration values, which are f32 in both precisions).
pub fn f32_lit(value: f64) -> TokenStream {
    let value = value as f32;
    if value.is_nan() {
        quote!(::core::f32::NAN)
    } else if value.is_infinite() {
        if value > 0.0 {
            quote!(::core::f32::INFINITY)
        } else {
            quote!(::core::f32::NEG_INFINITY)
        }
    } else {
        let lit = proc_macro2::Literal::f32_suffixed(value);
        quote!(#lit)
    }
}

pub fn usize_lit(value: usize) -> TokenStream {
    let lit = proc_macro2::Literal::usize_unsuffixed(value);
    quote!(#lit)
}
