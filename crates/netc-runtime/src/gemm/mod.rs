//! Cache-blocked SIMD matrix products (row-major f32), dispatched at run time.
