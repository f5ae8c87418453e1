//! The kernel source shared by every x86 instruction set, as a macro expanded inside each ISA
//! module. The module in scope provides `V`, `LANES` and the operations `zero`, `splat`,
//! `load`, `load_part`, `store`, `store_part`, `fmadd` and `hsum`, all compiled for `$feature`.
//!
//! Two register-blocked micro-kernels, neither packs anything:
//! - broadcast (`nn`, `tn`): an MR×(NV·LANES) tile of C accumulates, for each p, one element
//!   of A per row (broadcast) times NV contiguous vectors of B row p. Only A's addressing
//!   differs between `nn` (row stride k) and `tn` (row stride 1), and A is read one scalar at a
//!   time, so neither pays a strided vector load.
//! - dot (`nt`): an MR×NR tile of C is MR·NR dot products of A rows with B rows, both
//!   contiguous along k; each accumulator is a vector of partial sums, reduced once per tile.
//!
//! Column blocks are the outer loop so a block of B stays in L1 while every row of A passes.

macro_rules! define_kernels {
    (
        feature: $feature:literal,
        bcast_vectors: $nv:literal,
        bcast_rows: [$($br:literal),+],
        dot_rows: [$($dr:literal),+],
        dot_cols: [$($dc:literal),+] $(,)?
    ) => {
        const BCAST_ROWS: usize = max_of(&[$($br),+]);
        const DOT_ROWS: usize = max_of(&[$($dr),+]);
        const DOT_COLS: usize = max_of(&[$($dc),+]);

        const fn max_of(xs: &[usize]) -> usize {
            let (mut i, mut best) = (0, 0);
            while i < xs.len() {
                if xs[i] > best {
                    best = xs[i];
                }
                i += 1;
            }
            best
        }

        /// C[m×n] (+)= A[m×k] · B[k×n]
        ///
        /// # Safety
        /// The CPU supports this module's instruction set; slice lengths were checked.
        pub(in crate::gemm) unsafe fn nn(
            m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], acc: bool,
        ) {
            unsafe { bcast(m, n, k, a.as_ptr(), k, 1, b.as_ptr(), c.as_mut_ptr(), acc) }
        }

        /// C[m×n] (+)= A[k×m]ᵀ · B[k×n]
        ///
        /// # Safety
        /// The CPU supports this module's instruction set; slice lengths were checked.
        pub(in crate::gemm) unsafe fn tn(
            m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], acc: bool,
        ) {
            unsafe { bcast(m, n, k, a.as_ptr(), 1, m, b.as_ptr(), c.as_mut_ptr(), acc) }
        }

        /// C[m×n] (+)= A[m×k] · B[n×k]ᵀ
        ///
        /// # Safety
        /// The CPU supports this module's instruction set; slice lengths were checked.
        pub(in crate::gemm) unsafe fn nt(
            m: usize, n: usize, k: usize, a: &[f32], b: &[f32], c: &mut [f32], acc: bool,
        ) {
            let (a, b, c) = (a.as_ptr(), b.as_ptr(), c.as_mut_ptr());
            let mut j = 0;
            while j < n {
                let cols = DOT_COLS.min(n - j);
                // SAFETY: rows j..j+cols of B and columns j..j+cols of C are in bounds.
                unsafe {
                    let (b_j, c_j) = (b.add(j * k), c.add(j));
                    match cols {
                        $($dc => dot_rows::<$dc>(m, n, k, a, b_j, c_j, acc),)+
                        _ => unreachable!("column block wider than DOT_COLS"),
                    }
                }
                j += cols;
            }
        }

        /// The broadcast kernel over all of C; A(i, p) is at `a + i·rs_a + p·cs_a`.
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn bcast(
            m: usize, n: usize, k: usize, a: *const f32, rs_a: usize, cs_a: usize,
            b: *const f32, c: *mut f32, acc: bool,
        ) {
            let block = $nv * LANES;
            let mut j = 0;
            // SAFETY (all calls): columns j.. of B and C are in bounds by the loop conditions.
            unsafe {
                while j + block <= n {
                    bcast_rows::<$nv, false>(m, n, k, a, rs_a, cs_a, b.add(j), c.add(j), LANES, acc);
                    j += block;
                }
                while j + LANES <= n {
                    bcast_rows::<1, false>(m, n, k, a, rs_a, cs_a, b.add(j), c.add(j), LANES, acc);
                    j += LANES;
                }
                if j < n {
                    bcast_rows::<1, true>(m, n, k, a, rs_a, cs_a, b.add(j), c.add(j), n - j, acc);
                }
            }
        }

        /// One column block (NV vectors, the last one `tail` lanes wide if MASKED) of every row.
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn bcast_rows<const NV: usize, const MASKED: bool>(
            m: usize, n: usize, k: usize, a: *const f32, rs_a: usize, cs_a: usize,
            b: *const f32, c: *mut f32, tail: usize, acc: bool,
        ) {
            let mut i = 0;
            while i < m {
                let rows = BCAST_ROWS.min(m - i);
                // SAFETY: rows i..i+rows of A and C are in bounds.
                unsafe {
                    let (a_i, c_i) = (a.add(i * rs_a), c.add(i * n));
                    match rows {
                        $($br => bcast_tile::<$br, NV, MASKED>(
                            k, a_i, rs_a, cs_a, b, n, c_i, n, tail, acc),)+
                        _ => unreachable!("row block taller than BCAST_ROWS"),
                    }
                }
                i += rows;
            }
        }

        /// C tile MR×(NV·LANES) (+)= Σ_p A(r, p) · B[p, ..] with the tile in registers.
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn bcast_tile<const MR: usize, const NV: usize, const MASKED: bool>(
            k: usize, a: *const f32, rs_a: usize, cs_a: usize, b: *const f32, ldb: usize,
            c: *mut f32, ldc: usize, tail: usize, acc: bool,
        ) {
            // SAFETY: the caller guarantees MR rows of A and C, k rows of B and NV vectors of
            // columns (the last one `tail` wide when MASKED) are in bounds.
            unsafe {
                let mut sum = [[zero(); NV]; MR];
                if acc {
                    for r in 0..MR {
                        for v in 0..NV {
                            let at = c.add(r * ldc + v * LANES);
                            sum[r][v] = if MASKED && v + 1 == NV { load_part(at, tail) } else { load(at) };
                        }
                    }
                }
                for p in 0..k {
                    let b_row = b.add(p * ldb);
                    let mut bv = [zero(); NV];
                    for v in 0..NV {
                        let at = b_row.add(v * LANES);
                        bv[v] = if MASKED && v + 1 == NV { load_part(at, tail) } else { load(at) };
                    }
                    let a_p = a.add(p * cs_a);
                    for r in 0..MR {
                        let a_rp = splat(*a_p.add(r * rs_a));
                        for v in 0..NV {
                            sum[r][v] = fmadd(a_rp, bv[v], sum[r][v]);
                        }
                    }
                }
                for r in 0..MR {
                    for v in 0..NV {
                        let at = c.add(r * ldc + v * LANES);
                        if MASKED && v + 1 == NV {
                            store_part(at, sum[r][v], tail);
                        } else {
                            store(at, sum[r][v]);
                        }
                    }
                }
            }
        }

        /// NR columns (B rows) of every row of C, in MR-row dot tiles.
        #[target_feature(enable = $feature)]
        unsafe fn dot_rows<const NR: usize>(
            m: usize, n: usize, k: usize, a: *const f32, b: *const f32, c: *mut f32, acc: bool,
        ) {
            let mut i = 0;
            while i < m {
                let rows = DOT_ROWS.min(m - i);
                // SAFETY: rows i..i+rows of A and C are in bounds.
                unsafe {
                    let (a_i, c_i) = (a.add(i * k), c.add(i * n));
                    match rows {
                        $($dr => dot_tile::<$dr, NR>(k, a_i, b, c_i, n, acc),)+
                        _ => unreachable!("row block taller than DOT_ROWS"),
                    }
                }
                i += rows;
            }
        }

        /// C tile MR×NR (+)= dot(A row r, B row j), A and B rows k long (leading dimension k).
        #[target_feature(enable = $feature)]
        unsafe fn dot_tile<const MR: usize, const NR: usize>(
            k: usize, a: *const f32, b: *const f32, c: *mut f32, ldc: usize, acc: bool,
        ) {
            // SAFETY: the caller guarantees MR rows of A, NR rows of B (k long) and the MR×NR
            // tile of C are in bounds.
            unsafe {
                let mut sum = [[zero(); NR]; MR];
                let body = k / LANES * LANES;
                let mut p = 0;
                while p < body {
                    let mut av = [zero(); MR];
                    for r in 0..MR {
                        av[r] = load(a.add(r * k + p));
                    }
                    for j in 0..NR {
                        let bv = load(b.add(j * k + p));
                        for r in 0..MR {
                            sum[r][j] = fmadd(av[r], bv, sum[r][j]);
                        }
                    }
                    p += LANES;
                }
                if p < k {
                    let tail = k - p;
                    let mut av = [zero(); MR];
                    for r in 0..MR {
                        av[r] = load_part(a.add(r * k + p), tail);
                    }
                    for j in 0..NR {
                        let bv = load_part(b.add(j * k + p), tail);
                        for r in 0..MR {
                            sum[r][j] = fmadd(av[r], bv, sum[r][j]);
                        }
                    }
                }
                for r in 0..MR {
                    for j in 0..NR {
                        let at = c.add(r * ldc + j);
                        let total = hsum(sum[r][j]);
                        *at = if acc { *at + total } else { total };
                    }
                }
            }
        }
    };
}
