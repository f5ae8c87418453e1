//! Learning-rate schedules (and the counters schedules read). A schedule is a pure function
//! of the step count `k` (durations in steps) or of the epochs completed (durations in
//! epochs: the driver calls `end_epoch` after each epoch, the model counts them, so the rate
//! changes at epoch boundaries, as PyTorch's schedulers stepped once per epoch do).
//! Evaluated once per step in f64; `learning_rate()` reports exactly what the next step uses.

use netc_sema::ir::{self, Duration, ScheduleKind};
use proc_macro2::TokenStream;
use quote::quote;

use crate::hyper::Field;
use crate::plan::Plan;

fn durations(net: &ir::Network) -> Vec<Duration> {
    let mut all = Vec::new();
    match net.train.learning_rate.schedule {
        ScheduleKind::Constant => {}
        ScheduleKind::Linear { until: d, .. }
        | ScheduleKind::Step { every: d, .. }
        | ScheduleKind::Exponential { per: d, .. }
        | ScheduleKind::Cosine { period: d, .. } => all.push(d),
    }
    if let ir::OptimizerKind::Momentum { mu } | ir::OptimizerKind::Nesterov { mu } =
        net.train.optimizer.kind
        && let Some(over) = mu.over
    {
        all.push(over);
    }
    all
}

/// Whether the model counts epochs (a schedule measured in epochs).
pub fn counts_epochs(plan: &Plan) -> bool {
    durations(plan.net)
        .iter()
        .any(|d| matches!(d, Duration::Epochs(_)))
}

/// What `epochs` is inside `train_step` (`0` when no schedule reads it).
pub fn epochs_expr(plan: &Plan) -> TokenStream {
    if counts_epochs(plan) {
        quote!(*epochs)
    } else {
        quote!(0)
    }
}

/// `(k, n)`: the progress through a duration as f64 expressions over `steps`/`epochs`.
pub fn progress(d: Duration) -> (TokenStream, TokenStream) {
    let (k, n) = match d {
        Duration::Steps(n) => (quote!(steps as f64), n),
        Duration::Epochs(n) => (quote!(epochs as f64), n),
    };
    // Sema guarantees n ≥ 1; `max(1)` keeps a hand-built IR from dividing by zero.
    let n = proc_macro2::Literal::f64_suffixed(n.max(1) as f64);
    (k, quote!(#n))
}

pub fn hyper_fields(plan: &Plan) -> Vec<Field> {
    match plan.net.train.learning_rate.schedule {
        ScheduleKind::Constant => Vec::new(),
        ScheduleKind::Linear { to, .. } => vec![Field::non_negative("lr_final", to)],
        ScheduleKind::Step { gamma, .. } | ScheduleKind::Exponential { gamma, .. } => {
            vec![Field::positive("lr_gamma", gamma)]
        }
        ScheduleKind::Cosine { min, .. } => vec![Field::non_negative("lr_min", min)],
    }
}

/// The rate of the step after `steps` steps and `epochs` epochs.
pub fn learning_rate_expr(plan: &Plan, steps: TokenStream, epochs: TokenStream) -> TokenStream {
    match plan.net.train.learning_rate.schedule {
        ScheduleKind::Constant => quote!(hyper.learning_rate),
        _ => quote!(scheduled_learning_rate(hyper, #steps, #epochs)),
    }
}

/// `scheduled_learning_rate`, only for a non-constant schedule.
pub fn helper_fns(plan: &Plan) -> TokenStream {
    let body = match plan.net.train.learning_rate.schedule {
        ScheduleKind::Constant => return quote!(),
        ScheduleKind::Linear { until, .. } => {
            let (k, n) = progress(until);
            quote! {
                let alpha = (#k / #n).min(1.0);
                (1.0 - alpha) * eta0 + alpha * f64::from(hyper.lr_final)
            }
        }
        ScheduleKind::Step { every: d, .. } | ScheduleKind::Exponential { per: d, .. } => {
            let (k, n) = progress(d);
            quote!(eta0 * f64::from(hyper.lr_gamma).powf((#k / #n).floor()))
        }
        // PyTorch's closed form; past the period it follows the cosine back up.
        ScheduleKind::Cosine { period, .. } => {
            let (k, n) = progress(period);
            quote! {
                let min = f64::from(hyper.lr_min);
                min + 0.5 * (eta0 - min) * (1.0 + (::core::f64::consts::PI * #k / #n).cos())
            }
        }
    };
    quote! {
        /// The schedule's learning rate after `steps` steps and `epochs` completed epochs.
        #[allow(unused_variables)]
        fn scheduled_learning_rate(hyper: &Hyper, steps: u64, epochs: u64) -> F {
            let eta0 = f64::from(hyper.learning_rate);
            let rate = { #body };
            rate as F
        }
    }
}

/// The body of `Network::learning_rate`.
pub fn learning_rate_fn(plan: &Plan) -> TokenStream {
    let epochs = if counts_epochs(plan) {
        quote!(self.epochs)
    } else {
        quote!(0)
    };
    let expr = match plan.net.train.learning_rate.schedule {
        ScheduleKind::Constant => quote!(self.hyper.learning_rate),
        _ => quote!(scheduled_learning_rate(&self.hyper, self.steps, #epochs)),
    };
    quote! {
        fn learning_rate(&self) -> f32 {
            (#expr) as f32
        }
    }
}

/// `Network::end_epoch`: counts epochs when a schedule reads them (cumulative over `fit`
/// calls, like `steps`).
pub fn end_epoch_fn(plan: &Plan) -> TokenStream {
    if counts_epochs(plan) {
        quote! {
            fn end_epoch(&mut self, _epoch: usize) {
                self.epochs += 1;
            }
        }
    } else {
        quote!(
            fn end_epoch(&mut self, _epoch: usize) {}
        )
    }
}
