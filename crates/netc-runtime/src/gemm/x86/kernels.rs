//! The kernel source shared by every x86 instruction set, as a macro expanded inside each ISA
//! module. The module in scope provides `V`, `LANES` and the operations `zero`, `splat`,
//! `load`, `load_part`, `store`, `store_part`, `fmadd` and `hsum`, all compiled for `$feature`.
//!
//! Two register-blocked micro-kernels:
//! - broadcast (`nn`, `tn`): an MR×(NV·LANES) tile of C accumulates, for each p, one element
//!   of A per row (broadcast) times NV contiguous vectors of B row p. A and B are packed first
//!   (A into row panels, B one column block at a time, in a reused per-thread buffer), which is
//!   also where `nn` and `tn` differ: only the packing of A reads it transposed.
//! - dot (`nt`): an MR×NR tile of C is MR·NR dot products of A rows with B rows, both
//!   contiguous along k; each accumulator is a vector of partial sums, reduced once per tile.
//!
//! Column blocks are the outer loop so a block of B stays in L1 while every row panel of A
//! passes.

macro_rules! define_kernels {
    (
        feature: $feature:literal,
        bcast_vectors: $nv:literal,
        bcast_depth: $kc:literal,
        bcast_rows: [$($br:literal),+],
        dot_rows: [$($dr:literal),+],
        dot_cols: [$($dc:literal),+] $(,)?
    ) => {
        const BCAST_ROWS: usize = max_of(&[$($br),+]);
        /// Depth (k) chunk of the broadcast kernel: a packed B block of it stays in L1.
        const BCAST_DEPTH: usize = $kc;
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
        ///
        /// A is packed into panels of `BCAST_ROWS` rows ([p][r], zero-padded) and each column
        /// block of B into [p][column] rows: the tile then reads two contiguous streams, whatever
        /// the strides (a power-of-two stride would otherwise map a panel onto a few L1 sets).
        #[allow(clippy::too_many_arguments)]
        unsafe fn bcast(
            m: usize, n: usize, k: usize, a: *const f32, rs_a: usize, cs_a: usize,
            b: *const f32, c: *mut f32, acc: bool,
        ) {
            if m == 0 || n == 0 {
                return;
            }
            if k == 0 {
                if !acc {
                    // SAFETY: C holds m·n floats (checked by the caller).
                    unsafe { core::ptr::write_bytes(c, 0, m * n) };
                }
                return;
            }
            let kc = BCAST_DEPTH.min(k);
            let a_len = m.div_ceil(BCAST_ROWS) * BCAST_ROWS * kc;
            let b_len = kc * $nv * LANES;
            super::scratch::with_scratch(a_len + b_len, |buf| {
                let (a_pack, b_pack) = buf.split_at_mut(a_len);
                // SAFETY: the packs are as large as `bcast_packed` needs for these sizes.
                unsafe {
                    bcast_packed(
                        m, n, k, a, rs_a, cs_a, b, c, acc, a_pack.as_mut_ptr(), b_pack.as_mut_ptr(),
                    )
                }
            })
        }

        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn bcast_packed(
            m: usize, n: usize, k: usize, a: *const f32, rs_a: usize, cs_a: usize,
            b: *const f32, c: *mut f32, acc: bool, a_pack: *mut f32, b_pack: *mut f32,
        ) {
            let block = $nv * LANES;
            let mut k0 = 0;
            // SAFETY (all calls): columns j.. of B and C and depth k0.. are in bounds by the loop
            // conditions; the packs hold what these sizes need (see `bcast`).
            unsafe {
                while k0 < k {
                    let kc = BCAST_DEPTH.min(k - k0);
                    // Later depth chunks add to what the first one stored.
                    let acc = acc || k0 > 0;
                    pack_a(m, kc, a.add(k0 * cs_a), rs_a, cs_a, a_pack);
                    let b_k = b.add(k0 * n);
                    let mut j = 0;
                    while j + block <= n {
                        pack_b(kc, b_k.add(j), n, block, block, b_pack);
                        bcast_rows::<$nv, false>(m, n, kc, a_pack, b_pack, c.add(j), LANES, acc);
                        j += block;
                    }
                    while j + LANES <= n {
                        pack_b(kc, b_k.add(j), n, LANES, LANES, b_pack);
                        bcast_rows::<1, false>(m, n, kc, a_pack, b_pack, c.add(j), LANES, acc);
                        j += LANES;
                    }
                    if j < n {
                        pack_b(kc, b_k.add(j), n, n - j, LANES, b_pack);
                        bcast_rows::<1, true>(m, n, kc, a_pack, b_pack, c.add(j), n - j, acc);
                    }
                    k0 += kc;
                }
            }
        }

        /// Packs A(0..m, 0..kc) into panels of `BCAST_ROWS` rows, each laid out [p][r] with
        /// rows past m zero.
        #[target_feature(enable = $feature)]
        unsafe fn pack_a(
            m: usize, kc: usize, a: *const f32, rs_a: usize, cs_a: usize, dst: *mut f32,
        ) {
            let mut i = 0;
            let mut out = dst;
            while i < m {
                let rows = BCAST_ROWS.min(m - i);
                // SAFETY: rows i..i+rows, columns 0..kc of A are in bounds; the panel holds
                // kc·BCAST_ROWS floats.
                unsafe {
                    for p in 0..kc {
                        let src = a.add(i * rs_a + p * cs_a);
                        for r in 0..BCAST_ROWS {
                            *out.add(p * BCAST_ROWS + r) = if r < rows { *src.add(r * rs_a) } else { 0.0 };
                        }
                    }
                    out = out.add(kc * BCAST_ROWS);
                }
                i += rows;
            }
        }

        /// Copies `width` columns of kc rows of B (row stride ldb) into rows of `stride` floats,
        /// zero-filling columns width..stride.
        #[target_feature(enable = $feature)]
        unsafe fn pack_b(
            kc: usize, b: *const f32, ldb: usize, width: usize, stride: usize, dst: *mut f32,
        ) {
            // SAFETY: kc rows of `width` floats of B are in bounds; dst holds kc·stride floats.
            unsafe {
                for p in 0..kc {
                    let row = dst.add(p * stride);
                    core::ptr::copy_nonoverlapping(b.add(p * ldb), row, width);
                    core::ptr::write_bytes(row.add(width), 0, stride - width);
                }
            }
        }

        /// One packed column block of every row panel of C: NV vectors wide, the last one
        /// stored only `tail` lanes wide if MASKED.
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn bcast_rows<const NV: usize, const MASKED: bool>(
            m: usize, n: usize, kc: usize, a_pack: *const f32, b_pack: *const f32, c: *mut f32,
            tail: usize, acc: bool,
        ) {
            let mut i = 0;
            let mut a_panel = a_pack;
            while i < m {
                let rows = BCAST_ROWS.min(m - i);
                // SAFETY: rows i..i+rows of C are in bounds; panel i of the A pack exists.
                unsafe {
                    let c_i = c.add(i * n);
                    match rows {
                        $($br => bcast_tile::<$br, NV, MASKED>(kc, a_panel, b_pack, c_i, n, tail, acc),)+
                        _ => unreachable!("row block taller than BCAST_ROWS"),
                    }
                    a_panel = a_panel.add(kc * BCAST_ROWS);
                }
                i += rows;
            }
        }

        /// C tile MR×(NV·LANES) (+)= Σ_p A(r, p) · B[p, ..] with the tile in registers; A and B
        /// come packed ([p][r] with row stride BCAST_ROWS, [p][column] with stride NV·LANES).
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn bcast_tile<const MR: usize, const NV: usize, const MASKED: bool>(
            kc: usize, a_panel: *const f32, b_panel: *const f32, c: *mut f32, ldc: usize,
            tail: usize, acc: bool,
        ) {
            // SAFETY: the caller guarantees both panels hold kc rows, and MR rows of NV vectors
            // of C (the last one `tail` wide when MASKED) are in bounds.
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
                let (mut a_p, mut b_p) = (a_panel, b_panel);
                for _ in 0..kc {
                    let mut bv = [zero(); NV];
                    for v in 0..NV {
                        bv[v] = load(b_p.add(v * LANES));
                    }
                    for r in 0..MR {
                        let a_rp = splat(*a_p.add(r));
                        for v in 0..NV {
                            sum[r][v] = fmadd(a_rp, bv[v], sum[r][v]);
                        }
                    }
                    a_p = a_p.add(BCAST_ROWS);
                    b_p = b_p.add(NV * LANES);
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
