//! `augment` (data block): random shift, rotation, zoom and flips of each training image,
//! drawn afresh every time a sample enters a batch. Validation, test and prediction never see
//! it. Images are stored height × width × channels (channels fastest).
//!
//! Each output pixel p is read from the source at c + (R(−θ)·(p − c − t))/s, where c is the
//! image centre, t the shift (whole pixels), θ the angle and s the zoom; bilinear interpolation,
//! zero outside the image. Flips mirror the output afterwards. With no transform drawn
//! (t = 0, θ = 0, s = 1, no flip) the image is copied exactly.

use crate::real::Real;
use crate::rng::Rng;

/// Which image axes may be mirrored (each with probability ½).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flip {
    Horizontal,
    Vertical,
    Both,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Augment {
    pub height: usize,
    pub width: usize,
    pub channels: usize,
    /// Shift by a whole number of pixels drawn uniformly from [−shift, shift] per axis.
    pub shift: u32,
    /// Rotation by an angle drawn uniformly from [−rotate_deg, rotate_deg] degrees.
    pub rotate_deg: f64,
    /// Zoom factor drawn uniformly from [lo, hi].
    pub scale: (f64, f64),
    pub flip: Option<Flip>,
}

/// One sample's drawn transform.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transform {
    pub dx: i32,
    pub dy: i32,
    pub angle_rad: f64,
    pub zoom: f64,
    pub flip_x: bool,
    pub flip_y: bool,
}

impl Transform {
    pub const IDENTITY: Transform = Transform {
        dx: 0,
        dy: 0,
        angle_rad: 0.0,
        zoom: 1.0,
        flip_x: false,
        flip_y: false,
    };
}

impl Augment {
    pub fn features(&self) -> usize {
        self.height * self.width * self.channels
    }

    /// Draws one sample's transform (a fixed number of draws, so runs replay exactly).
    pub fn draw(&self, rng: &mut Rng) -> Transform {
        let span = 2 * self.shift as usize + 1;
        let dx = rng.below(span) as i32 - self.shift as i32;
        let dy = rng.below(span) as i32 - self.shift as i32;
        let angle = (2.0 * f64::from(rng.uniform()) - 1.0) * self.rotate_deg.to_radians();
        let (lo, hi) = self.scale;
        let zoom = lo + f64::from(rng.uniform()) * (hi - lo);
        let (fx, fy) = (rng.uniform() < 0.5, rng.uniform() < 0.5);
        let (flip_x, flip_y) = match self.flip {
            None => (false, false),
            Some(Flip::Horizontal) => (fx, false),
            Some(Flip::Vertical) => (false, fy),
            Some(Flip::Both) => (fx, fy),
        };
        Transform {
            dx,
            dy,
            angle_rad: angle,
            zoom,
            flip_x,
            flip_y,
        }
    }

    /// Writes `src` (one image) transformed by `t` into `dst` (same size).
    pub fn apply<V: Real>(&self, t: &Transform, src: &[V], dst: &mut [V]) {
        let (h, w, ch) = (self.height, self.width, self.channels);
        if *t == Transform::IDENTITY {
            dst.copy_from_slice(src);
            return;
        }
        let (cy, cx) = ((h as f64 - 1.0) / 2.0, (w as f64 - 1.0) / 2.0);
        let (sin, cos) = (-t.angle_rad).sin_cos();
        let inv_zoom = 1.0 / t.zoom;
        for y in 0..h {
            for x in 0..w {
                // Flips mirror the output: output (x, y) shows the unflipped pixel (ox, oy).
                let ox = if t.flip_x { w - 1 - x } else { x };
                let oy = if t.flip_y { h - 1 - y } else { y };
                let px = ox as f64 - cx - f64::from(t.dx);
                let py = oy as f64 - cy - f64::from(t.dy);
                let sx = (cos * px - sin * py) * inv_zoom + cx;
                let sy = (sin * px + cos * py) * inv_zoom + cy;
                let out = &mut dst[(y * w + x) * ch..(y * w + x + 1) * ch];
                bilinear(src, h, w, ch, sx, sy, out);
            }
        }
    }
}

/// Bilinear sample at (sx, sy) for every channel; pixels outside the image count as 0.
fn bilinear<V: Real>(src: &[V], h: usize, w: usize, ch: usize, sx: f64, sy: f64, out: &mut [V]) {
    out.fill(V::ZERO);
    let (x0, y0) = (sx.floor(), sy.floor());
    let (fx, fy) = (sx - x0, sy - y0);
    for (dy, wy) in [(0, 1.0 - fy), (1, fy)] {
        for (dx, wx) in [(0, 1.0 - fx), (1, fx)] {
            let weight = wx * wy;
            let (xi, yi) = (x0 as i64 + dx, y0 as i64 + dy);
            if weight == 0.0 || xi < 0 || yi < 0 || xi >= w as i64 || yi >= h as i64 {
                continue;
            }
            let at = (yi as usize * w + xi as usize) * ch;
            for (o, &v) in out.iter_mut().zip(&src[at..at + ch]) {
                *o += V::from_f64(weight * v.to_f64());
            }
        }
    }
}

/// Replaces every row of `batch` (rows × features) by a freshly transformed copy, through
/// `scratch` (one image) so nothing is allocated.
pub fn augment_batch<V: Real>(cfg: &Augment, batch: &mut [V], scratch: &mut [V], rng: &mut Rng) {
    let n = cfg.features();
    for row in batch.chunks_exact_mut(n) {
        let t = cfg.draw(rng);
        scratch.copy_from_slice(row);
        cfg.apply(&t, scratch, row);
    }
}

/// The training loop's augmentation state: the spec's settings, its own random stream and
/// one image's scratch buffer (in the model's precision `V`), allocated once.
pub struct Augmenter<V = f32> {
    cfg: Augment,
    scratch: Vec<V>,
    rng: Rng,
}

impl<V: Real> Augmenter<V> {
    pub fn new(cfg: Augment, seed: u64) -> Augmenter<V> {
        Augmenter {
            cfg,
            scratch: vec![V::ZERO; cfg.features()],
            rng: Rng::new(seed, crate::rng::streams::AUGMENT),
        }
    }

    /// The transform generator's state, for run-state files.
    pub fn rng_state(&self) -> crate::rng::RngState {
        self.rng.state()
    }

    pub fn set_rng_state(&mut self, state: &crate::rng::RngState) {
        self.rng = Rng::from_state(state);
    }

    /// Transforms the batch `x` (the driver's copy of it) in place.
    pub fn transform_in_place(&mut self, x: &mut [V]) {
        augment_batch(&self.cfg, x, &mut self.scratch, &mut self.rng);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(h: usize, w: usize) -> Augment {
        Augment {
            height: h,
            width: w,
            channels: 1,
            shift: 0,
            rotate_deg: 0.0,
            scale: (1.0, 1.0),
            flip: None,
        }
    }

    fn image(h: usize, w: usize) -> Vec<f32> {
        (0..h * w).map(|i| i as f32 + 1.0).collect()
    }

    fn run(c: &Augment, t: Transform, src: &[f32]) -> Vec<f32> {
        let mut dst = vec![f32::NAN; src.len()];
        c.apply(&t, src, &mut dst);
        dst
    }

    #[test]
    fn identity_copies_exactly() {
        let src = image(3, 4);
        assert_eq!(run(&cfg(3, 4), Transform::IDENTITY, &src), src);
    }

    #[test]
    fn a_shift_moves_every_pixel_and_fills_zeros() {
        let src = image(3, 3); // 1 2 3 / 4 5 6 / 7 8 9
        let t = Transform {
            dx: 1,
            ..Transform::IDENTITY
        };
        assert_eq!(
            run(&cfg(3, 3), t, &src),
            vec![0.0, 1.0, 2.0, 0.0, 4.0, 5.0, 0.0, 7.0, 8.0]
        );
        let t = Transform {
            dy: -1,
            ..Transform::IDENTITY
        };
        assert_eq!(
            run(&cfg(3, 3), t, &src),
            vec![4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 0.0, 0.0, 0.0]
        );
    }

    #[test]
    fn flips_mirror_the_image() {
        let src = image(2, 3); // 1 2 3 / 4 5 6
        let t = Transform {
            flip_x: true,
            ..Transform::IDENTITY
        };
        assert_eq!(run(&cfg(2, 3), t, &src), vec![3.0, 2.0, 1.0, 6.0, 5.0, 4.0]);
        let t = Transform {
            flip_y: true,
            ..Transform::IDENTITY
        };
        assert_eq!(run(&cfg(2, 3), t, &src), vec![4.0, 5.0, 6.0, 1.0, 2.0, 3.0]);
    }

    #[test]
    fn a_quarter_turn_rotates_the_grid() {
        let src = image(3, 3); // 1 2 3 / 4 5 6 / 7 8 9
        let t = Transform {
            angle_rad: std::f64::consts::FRAC_PI_2,
            ..Transform::IDENTITY
        };
        let out = run(&cfg(3, 3), t, &src);
        // Output p reads the source at c + R(−90°)(p − c): (0, 0) ← (0, 2), (2, 0) ← (0, 0)…
        let expected = [7.0, 4.0, 1.0, 8.0, 5.0, 2.0, 9.0, 6.0, 3.0];
        for (o, e) in out.iter().zip(expected) {
            assert!((o - e).abs() < 1e-5, "{out:?}");
        }
    }

    #[test]
    fn zooming_in_by_two_reads_the_centre_half() {
        let src = image(1, 5); // 1 2 3 4 5, centre x = 2
        let t = Transform {
            zoom: 2.0,
            ..Transform::IDENTITY
        };
        // x → 2 + (x − 2)/2: 1, 1.5, 2, 2.5, 3 → values 2, 2.5, 3, 3.5, 4.
        assert_eq!(run(&cfg(1, 5), t, &src), vec![2.0, 2.5, 3.0, 3.5, 4.0]);
    }

    #[test]
    fn draws_stay_in_their_ranges_and_replay_with_the_seed() {
        let c = Augment {
            shift: 2,
            rotate_deg: 10.0,
            scale: (0.9, 1.1),
            flip: Some(Flip::Horizontal),
            ..cfg(4, 4)
        };
        let (mut a, mut b) = (Rng::new(5, 1), Rng::new(5, 1));
        let mut flips = 0;
        for _ in 0..2000 {
            let t = c.draw(&mut a);
            assert_eq!(t, c.draw(&mut b));
            assert!(t.dx.abs() <= 2 && t.dy.abs() <= 2);
            assert!(t.angle_rad.abs() <= 10f64.to_radians());
            assert!((0.9..=1.1).contains(&t.zoom));
            assert!(!t.flip_y);
            flips += usize::from(t.flip_x);
        }
        assert!(
            (900..1100).contains(&flips),
            "{flips} horizontal flips of 2000"
        );
    }
}
