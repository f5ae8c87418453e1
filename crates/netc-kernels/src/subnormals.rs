//! Subnormal floats flushed to zero (the x86 MXCSR bits FTZ and DAZ), per thread.
//!
//! Training produces subnormals as a matter of course: weights of inputs that are always zero
//! (MNIST's border pixels) decay geometrically under weight decay, their Adam moments too, and
//! a confident softmax puts out probabilities below 1e-38. On this machine kind every
//! arithmetic instruction that reads or writes one takes a microcode assist, some hundred
//! cycles: measured on the AVX-512 machine, `specs/mnist_ref.net`'s step fell from 52.8k to
//! 13.2k samples/s within eight benchmark runs, and real MNIST training from 53.9k (epoch 1) to
//! 13.4k samples/s (epoch 15 on). With FTZ|DAZ it stays at ~90k. Values below 1.2e-38 (f32) or
//! 2.2e-308 (f64) carry nothing a training run can see; XLA's CPU threads (JAX) and
//! `torch.set_flush_denormal(True)` make the same choice.
//!
//! The mode belongs to a thread. The trainer sets it once on its main thread; a product split
//! over helper threads runs every part in the mode of the thread that asked for it
//! ([`crate::threads`]), so results stay bit-identical for any thread count.
//!
//! Rust's own rules: the compiler assumes the IEEE default mode, so a float operation it
//! evaluated at compile time keeps a subnormal that the same operation at run time would
//! flush; the docs of `_mm_setcsr` call any change of these bits undefined behaviour for that
//! reason. netc accepts the narrow form it takes here (which of two tiny values, a subnormal
//! or zero, a result gets) and confines it to processes that ask for it:
//! [`flush_on_this_thread`] is `unsafe` and only the trainer's entry calls it.

/// A thread's floating-point mode bits that netc sets (the MXCSR's FTZ and DAZ), or 0 where
/// there are none (not x86-64).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mode(u32);

/// MXCSR bit 15: results that would be subnormal are zero (flush to zero).
#[cfg(target_arch = "x86_64")]
const FTZ: u32 = 1 << 15;
/// MXCSR bit 6: subnormal operands are read as zero (denormals are zero).
#[cfg(target_arch = "x86_64")]
const DAZ: u32 = 1 << 6;
#[cfg(target_arch = "x86_64")]
const BITS: u32 = FTZ | DAZ;

impl Mode {
    /// IEEE's gradual underflow: the default of every new thread.
    pub const KEEP: Mode = Mode(0);

    /// Whether subnormal results and operands are taken as zero.
    pub fn flushes(self) -> bool {
        self != Mode::KEEP
    }

    /// The calling thread's mode.
    pub fn current() -> Mode {
        #[cfg(target_arch = "x86_64")]
        {
            Mode(read_mxcsr() & BITS)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            Mode::KEEP
        }
    }

    /// Puts the calling thread in `self`'s mode (a no-op when it already is): a helper thread
    /// running a part of another thread's product.
    ///
    /// # Safety
    /// As [`flush_on_this_thread`]: the caller accepts that float results on this thread
    /// follow `self` from here on, also where the compiler assumed the default.
    pub(crate) unsafe fn adopt(self) {
        #[cfg(target_arch = "x86_64")]
        {
            let now = read_mxcsr();
            if now & BITS != self.0 {
                // SAFETY: the caller's contract; only the FTZ/DAZ bits change.
                unsafe { write_mxcsr((now & !BITS) | self.0) };
            }
        }
    }
}

/// Flushes subnormal results and operands to zero on the calling thread from now on (x86-64;
/// elsewhere nothing changes). Returns the mode now in force.
///
/// # Safety
/// Float results on this thread differ from IEEE's wherever a subnormal occurs, including in
/// code the compiler evaluated assuming IEEE (module docs): call it only at the start of a
/// thread whose every float result may be flushed — a trainer process, not a library's caller.
pub unsafe fn flush_on_this_thread() -> Mode {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: the caller's contract.
    unsafe {
        Mode(BITS).adopt()
    };
    Mode::current()
}

#[cfg(target_arch = "x86_64")]
fn read_mxcsr() -> u32 {
    let mut value: u32 = 0;
    // SAFETY: `stmxcsr` stores the 32-bit MXCSR at the address given; SSE is part of x86-64.
    unsafe {
        std::arch::asm!("stmxcsr [{}]", in(reg) &mut value, options(nostack, preserves_flags));
    }
    value
}

/// # Safety
/// `value` must be a valid MXCSR (reserved bits zero); see [`flush_on_this_thread`].
#[cfg(target_arch = "x86_64")]
unsafe fn write_mxcsr(value: u32) {
    // SAFETY: the caller's contract; `ldmxcsr` reads 32 bits at the address given.
    unsafe {
        std::arch::asm!("ldmxcsr [{}]", in(reg) &value, options(nostack, preserves_flags, readonly));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `black_box` keeps the compiler from folding the products at compile time (where it
    /// would assume the default mode).
    fn smallest_normal_halved() -> f32 {
        std::hint::black_box(f32::MIN_POSITIVE) * std::hint::black_box(0.5)
    }

    #[test]
    fn a_new_thread_keeps_subnormals_and_flushing_drops_them() {
        std::thread::spawn(|| {
            assert_eq!(Mode::current(), Mode::KEEP);
            assert!(smallest_normal_halved() > 0.0, "IEEE: a subnormal result");
            // SAFETY: this test thread's float results may be flushed.
            let mode = unsafe { flush_on_this_thread() };
            assert_eq!(Mode::current(), mode);
            if cfg!(target_arch = "x86_64") {
                assert!(mode.flushes());
                assert_eq!(smallest_normal_halved(), 0.0, "FTZ: flushed to zero");
                let subnormal = f32::from_bits(1);
                let read = std::hint::black_box(subnormal) * std::hint::black_box(2.0);
                assert_eq!(read, 0.0, "DAZ: a subnormal operand reads as zero");
                // SAFETY: as above.
                unsafe { Mode::KEEP.adopt() };
                assert_eq!(Mode::current(), Mode::KEEP);
                assert!(smallest_normal_halved() > 0.0);
            }
        })
        .join()
        .unwrap();
    }
}
