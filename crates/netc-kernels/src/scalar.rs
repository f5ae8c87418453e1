//! The float type a generated model is monomorphized for (`precision f32 | f64`): what the
//! runtime needs to store, save and convert its tensors, and nothing more.

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for f64 {}
}

/// `f32` or `f64` (sealed).
pub trait Scalar:
    sealed::Sealed + Copy + Default + PartialEq + PartialOrd + std::fmt::Debug + Send + Sync + 'static
{
    /// The safetensors dtype name.
    const DTYPE: &'static str;
    /// Bytes per value.
    const BYTES: usize;
    fn to_f64(self) -> f64;
    fn from_f64(value: f64) -> Self;
    fn write_le(self, out: &mut Vec<u8>);
    /// Reads one value from exactly `BYTES` little-endian bytes.
    fn read_le(bytes: &[u8]) -> Self;
}

impl Scalar for f32 {
    const DTYPE: &'static str = "F32";
    const BYTES: usize = 4;
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
    fn from_f64(value: f64) -> Self {
        value as f32
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        let mut le = [0u8; 4];
        le.copy_from_slice(bytes);
        f32::from_le_bytes(le)
    }
}

impl Scalar for f64 {
    const DTYPE: &'static str = "F64";
    const BYTES: usize = 8;
    fn to_f64(self) -> f64 {
        self
    }
    fn from_f64(value: f64) -> Self {
        value
    }
    fn write_le(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&self.to_le_bytes());
    }
    fn read_le(bytes: &[u8]) -> Self {
        let mut le = [0u8; 8];
        le.copy_from_slice(bytes);
        f64::from_le_bytes(le)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip<T: Scalar>(value: f64) -> f64 {
        let mut bytes = Vec::new();
        T::from_f64(value).write_le(&mut bytes);
        assert_eq!(bytes.len(), T::BYTES);
        T::read_le(&bytes).to_f64()
    }

    #[test]
    fn bytes_round_trip_in_both_precisions() {
        assert_eq!(round_trip::<f64>(0.1), 0.1);
        assert_eq!(round_trip::<f32>(0.1), f64::from(0.1f32));
        assert_ne!(round_trip::<f32>(0.1), 0.1);
    }
}
