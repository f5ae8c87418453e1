//! The pieces of a data-parallel step (`mpirun -n N train`), in one process: a rank's
//! `gradient_share`, the sum of the shares' gradients, `write_gradient` and `apply_gradient`.
//! One share of the whole batch is `train_step` bit for bit; shares of 2 and 3 ranks, summed
//! in rank order, are the one-process model up to that order (f64: ≤ 1e-12 relative); each
//! sample's dropout mask is the one a whole-batch step draws for it. (Batch norm across ranks
//! needs the ranks: tests/mpi/data_parallel.rs.) And `gradient` on fewer
//! rows than the batch reads only those rows (it once summed stale rows into bias gradients).

use netc::__private::{Masks, Scalar, Share, Targets, batch_of};
use netc::Network;

// Input and hidden dropout, a GEMM layer (24 inputs, 40 units) and unrolled ones (≤ 16).
netc::net! {
    model dp_adam {
        input 24
        dropout 0.2
        dense 40 relu init=he
        dropout 0.3
        dense 12 tanh init=xavier
        dense 5 init=xavier
        loss softmax
    }
    train {
        batch 12
        optimizer adam(beta1=0.9, beta2=0.999, eps=1e-8)
        learning_rate 1e-2 cosine(min=1e-4, period=50 steps)
        regularize l2(1e-3)
        precision f64
        seed 7
    }
}

// Batch norm (GEMM-sized and unrolled) with dropout after it: statistics of the whole batch.
netc::net! {
    model dp_batchnorm {
        input 24
        dense 40 relu init=he
        batchnorm momentum=0.8
        dropout 0.2
        dense 12 tanh
        batchnorm
        dense 4
        loss softmax
    }
    train {
        batch 12
        optimizer momentum(mu=0.9)
        learning_rate 0.05
        regularize l2(1e-3)
        precision f64
        seed 9
    }
}

netc::net! {
    model dp_momentum {
        input 24
        dense 40 sigmoid init=xavier
        dropout 0.5
        dense 3 init=xavier
        loss softmax
    }
    train {
        batch 12
        optimizer nesterov(mu=0.9)
        learning_rate 0.05
        regularize l1(1e-4)
        precision f32
        seed 8
    }
}

/// Batch `step` of a deterministic stream: `BATCH` samples of `INPUT` features, labels.
/// Inputs computed in f32 (the same values for f32 and f64 models) and labels.
fn batch<M: Network>(step: usize) -> (Vec<M::Float>, Vec<u32>) {
    let x = (0..M::BATCH * M::INPUT)
        .map(|i| (((i * 37 + step * 101) % 97) as f32 / 48.0 - 1.0) * 0.8)
        .map(|v| M::Float::from_f64(f64::from(v)))
        .collect();
    let labels = (0..M::BATCH)
        .map(|r| ((r * 7 + step * 3) % M::OUTPUT) as u32)
        .collect();
    (x, labels)
}

/// One data-parallel step of `ranks` ranks simulated in one process: each share computed
/// from the same generator state, the gradients summed in rank order in f64, one update.
/// (Batch norm's statistics are sums over every rank mid-pass: one process can simulate a
/// single rank of them only, where there is nothing to add.)
fn shared_step<M: Network>(model: &mut M, x: &[M::Float], labels: &[u32], ranks: usize) -> f64 {
    if ranks == 1 {
        let share = Share::of(M::BATCH, 0, 1);
        let stats = model.gradient_share(x, Targets::Classes(labels), share, &mut |_| {});
        let mut gradient = vec![0.0; M::PARAMS];
        model.read_gradient(&mut gradient);
        model.write_gradient(&gradient);
        model.apply_gradient();
        return stats.loss_sum / M::BATCH as f64;
    }
    let start = model.counters();
    let mut sum = vec![0.0; M::PARAMS];
    let mut part = vec![0.0; M::PARAMS];
    let mut loss = 0.0;
    for rank in 0..ranks {
        let share = Share::of(M::BATCH, rank, ranks);
        model.set_counters(start);
        let rows = share.first..share.first + share.rows;
        let stats = model.gradient_share(
            &x[rows.start * M::INPUT..rows.end * M::INPUT],
            Targets::Classes(&labels[rows]),
            share,
            &mut |_| panic!("a model without batch norm has no statistics to sum"),
        );
        model.read_gradient(&mut part);
        for (s, p) in sum.iter_mut().zip(&part) {
            *s += p;
        }
        loss += stats.loss_sum;
    }
    model.write_gradient(&sum);
    model.apply_gradient();
    loss / M::BATCH as f64
}

/// Every tensor and optimizer slot, with the counters, as f64 values by name.
fn state<M: Network>(model: &M) -> Vec<(String, Vec<f64>)> {
    use netc::__private::Scalar;
    let mut all: Vec<(String, Vec<f64>)> = model
        .tensors()
        .into_iter()
        .chain(model.optimizer_state())
        .map(|t| (t.name, t.data.iter().map(|v| v.to_f64()).collect()))
        .collect();
    let c = model.counters();
    all.push((
        "counters".into(),
        vec![c.steps as f64, c.epochs as f64, c.dropout as f64],
    ));
    all
}

/// max |a − b| / max |b| over each tensor, the worst tensor's.
fn worst_relative(a: &[(String, Vec<f64>)], b: &[(String, Vec<f64>)]) -> f64 {
    a.iter()
        .zip(b)
        .map(|((name, a), (other, b))| {
            assert_eq!(name, other);
            let scale = b
                .iter()
                .fold(0.0f64, |m, v| m.max(v.abs()))
                .max(f64::MIN_POSITIVE);
            a.iter()
                .zip(b)
                .fold(0.0f64, |m, (x, y)| m.max((x - y).abs()))
                / scale
        })
        .fold(0.0, f64::max)
}

fn train_steps<M: Network>(model: &mut M, steps: usize) {
    for step in 0..steps {
        let (x, labels) = batch::<M>(step);
        let (bx, by) = batch_of::<M>(&x, Targets::Classes(&labels));
        model.train_step(&bx, &by);
    }
}

fn shared_steps<M: Network>(model: &mut M, steps: usize, ranks: usize) {
    for step in 0..steps {
        let (x, labels) = batch::<M>(step);
        shared_step(model, &x, &labels, ranks);
    }
}

#[test]
fn one_share_of_the_whole_batch_is_train_step_bit_for_bit() {
    let mut whole = dp_adam::new(1);
    let mut shared = dp_adam::new(1);
    train_steps(&mut whole, 30);
    shared_steps(&mut shared, 30, 1);
    assert_eq!(state(&whole), state(&shared));

    let mut whole = dp_momentum::new(2);
    let mut shared = dp_momentum::new(2);
    train_steps(&mut whole, 30);
    shared_steps(&mut shared, 30, 1);
    assert_eq!(state(&whole), state(&shared));

    // Running statistics included (they are among the tensors).
    let mut whole = dp_batchnorm::new(3);
    let mut shared = dp_batchnorm::new(3);
    train_steps(&mut whole, 30);
    shared_steps(&mut shared, 30, 1);
    assert_eq!(state(&whole), state(&shared));
}

#[test]
fn shares_of_two_and_three_ranks_add_up_to_the_one_process_model() {
    let mut whole = dp_adam::new(3);
    train_steps(&mut whole, 100);
    let reference = state(&whole);
    for ranks in [2, 3] {
        let mut shared = dp_adam::new(3);
        shared_steps(&mut shared, 100, ranks);
        let worst = worst_relative(&state(&shared), &reference);
        assert!(worst <= 1e-12, "{ranks} ranks: {worst:e} from one process");
        // Not trivially equal: the shares' sums are added in another order.
        assert!(worst > 0.0, "{ranks} ranks: suspiciously bit-identical");
    }
    let mut whole = dp_momentum::new(4);
    train_steps(&mut whole, 100);
    let mut shared = dp_momentum::new(4);
    shared_steps(&mut shared, 100, 3);
    let worst = worst_relative(&state(&shared), &state(&whole));
    assert!(worst <= 1e-4, "f32, 3 ranks: {worst:e} from one process");
}

#[test]
fn each_sample_gets_the_mask_a_whole_batch_step_draws_for_it() {
    let (x, labels) = batch::<dp_adam::Model>(0);
    let mut whole = dp_adam::new(5);
    let mut part = dp_adam::new(5);
    let start = whole.counters();
    whole.gradient(&x, Targets::Classes(&labels), dp_adam::BATCH, Masks::Fresh);
    let share = Share::of(dp_adam::BATCH, 2, 3);
    let rows = share.first..share.first + share.rows;
    part.gradient_share(
        &x[rows.start * dp_adam::INPUT..rows.end * dp_adam::INPUT],
        Targets::Classes(&labels[rows.clone()]),
        share,
        &mut |_| {},
    );
    for (w, p) in whole.dropout_masks().iter().zip(part.dropout_masks()) {
        let width = w.shape[1];
        assert_eq!(
            &w.data[rows.start * width..rows.end * width],
            &p.data[..share.rows * width],
            "{}",
            w.name
        );
    }
    // Both generators moved past the whole batch's draws.
    assert_eq!(whole.counters(), part.counters());
    assert_ne!(whole.counters().dropout, start.dropout);
}

#[test]
fn gradient_of_fewer_rows_than_the_batch_reads_only_those_rows() {
    let (x, labels) = batch::<dp_momentum::Model>(1);
    let (x2, labels2) = batch::<dp_momentum::Model>(2);
    let rows = 5;
    let mut used = dp_momentum::new(6);
    let mut fresh = dp_momentum::new(6);
    used.gradient(
        &x,
        Targets::Classes(&labels),
        dp_momentum::BATCH,
        Masks::Fresh,
    );
    fresh.set_counters(used.counters());
    let a = used.gradient(&x2, Targets::Classes(&labels2), rows, Masks::Fresh);
    let b = fresh.gradient(&x2, Targets::Classes(&labels2), rows, Masks::Fresh);
    let (mut ga, mut gb) = (
        vec![0.0; dp_momentum::Model::PARAMS],
        vec![0.0; dp_momentum::Model::PARAMS],
    );
    used.read_gradient(&mut ga);
    fresh.read_gradient(&mut gb);
    assert_eq!(a, b);
    assert_eq!(
        ga, gb,
        "the rows past `rows` of an earlier call leaked into the gradient"
    );
}
