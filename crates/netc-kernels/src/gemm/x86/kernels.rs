//! The kernel source shared by every x86 instruction set, as a macro expanded inside each ISA
//! module. The module in scope provides the element type `E` (f32 or f64), its vector `V` of
//! `LANES` elements and the operations `zero`, `splat`, `load`, `load_part`, `store`,
//! `store_part`, `fmadd` and `transpose_8x8`, all compiled for `$feature`. Blocking is in
//! vectors, not elements, so one geometry serves both element types: an f64 tile holds half
//! the columns of an f32 one in the same registers, and its packed B block the same bytes.
//!
//! One register-blocked broadcast micro-kernel serves all three variants: a tile of
//! MR rows × NV vectors of a product D = A·B accumulates, for each p, one element of A per row
//! (broadcast) times NV contiguous vectors of a packed row of B. The variants differ only in
//! how operands are read and the tile is written:
//! - `nn`: D = C, A read in place (rows contiguous along k) unless its rows are a page or more
//!   apart, B packed by row copies;
//! - `tn`: D = C, A packed into row panels (its rows are strided), B packed by row copies;
//! - `nt`: D = Cᵀ = B·Aᵀ — the B matrix (n×k, e.g. a weight) is the in-place broadcast
//!   operand, A (m×k, e.g. a batch) is packed transposed, and D goes to scratch space, then is
//!   transposed into C in 8×8 register blocks. This keeps the large weight unpacked and read
//!   once per column block (once in all at AVX-512 width for a batch of 64).
//!
//! Packing (in a reused per-thread buffer) makes each tile read two contiguous streams: a
//! power-of-two stride would otherwise map a tile's column of an operand onto a few L1 sets.
//! Depth is cut into `BCAST_DEPTH` chunks so a packed B block stays in L1, and rows of A into
//! blocks of `ROW_BLOCK` so their chunk stays in L2; inside a row block, column blocks are the
//! outer loop so a packed B block is reused by every row panel.

macro_rules! define_kernels {
    (
        feature: $feature:literal,
        bcast_vectors: $nv:literal,
        bcast_depth: $kc:literal,
        bcast_rows: [$($br:literal),+] $(,)?
    ) => {
        /// Rows of A (and of the C tile) per register tile.
        const BCAST_ROWS: usize = max_of(&[$($br),+]);
        /// Depth (k) chunk: a packed B block of it stays in L1.
        const BCAST_DEPTH: usize = $kc;
        /// Rows of C per `nt` pass (a multiple of every vector width).
        const NT_ROWS: usize = 256;
        /// Rows of A per row block: a block's depth chunk (`ROW_BLOCK_BYTES`) stays in L2 while
        /// every column block of B streams past it, so a large A is not re-read from memory
        /// once per column block. The summation order is unchanged, so are the results.
        const ROW_BLOCK: usize = ROW_BLOCK_BYTES / (BCAST_DEPTH * size_of::<E>());
        const ROW_BLOCK_BYTES: usize = 256 << 10;
        /// The distance at which addresses map to the same L1 set (48 KiB 12-way, 32 KiB 8-way).
        const PAGE_BYTES: usize = 4096;
        /// Elements per 64-byte cache line.
        const LINE_ELEMENTS: usize = 64 / size_of::<E>();

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
            m: usize, n: usize, k: usize, a: &[E], b: &[E], c: &mut [E], acc: bool,
        ) {
            // A's rows are read in place unless they are a page or more apart: then a tile's
            // rows would share a few L1 sets (and a row block's, L2 sets), so they are packed.
            let packed = k * size_of::<E>() >= PAGE_BYTES;
            let a = Operand { at: a.as_ptr(), row_stride: k, depth_stride: 1, packed };
            let b = Operand { at: b.as_ptr(), row_stride: 1, depth_stride: n, packed: true };
            let len = pack_len(m, k, a);
            $crate::gemm::x86::scratch::with_scratch(len, |buf| {
                // SAFETY: C holds m·n elements; `buf` is the packing space for these sizes.
                unsafe { product(m, n, k, a, b, c.as_mut_ptr(), acc, buf.as_mut_ptr()) }
            })
        }

        /// C[m×n] (+)= A[k×m]ᵀ · B[k×n], A's rows `lda ≥ m` apart (the first m columns of a
        /// wider matrix).
        ///
        /// # Safety
        /// The CPU supports this module's instruction set; A holds (k−1)·lda + m elements (if
        /// m, k > 0), B k·n, C m·n.
        #[allow(clippy::too_many_arguments)]
        pub(in crate::gemm) unsafe fn tn(
            m: usize, n: usize, k: usize, a: &[E], lda: usize, b: &[E], c: &mut [E],
            acc: bool,
        ) {
            let a = Operand { at: a.as_ptr(), row_stride: 1, depth_stride: lda, packed: true };
            let b = Operand { at: b.as_ptr(), row_stride: 1, depth_stride: n, packed: true };
            let len = pack_len(m, k, a);
            $crate::gemm::x86::scratch::with_scratch(len, |buf| {
                // SAFETY: C holds m·n elements; `buf` is the packing space for these sizes.
                unsafe { product(m, n, k, a, b, c.as_mut_ptr(), acc, buf.as_mut_ptr()) }
            })
        }

        /// C[m×n] (+)= A[m×k] · B[n×k]ᵀ, computed as D = Cᵀ = B · Aᵀ into scratch space, then
        /// transposed into C; at most `NT_ROWS` rows of C at a time, which bounds the scratch.
        ///
        /// # Safety
        /// The CPU supports this module's instruction set; slice lengths were checked.
        pub(in crate::gemm) unsafe fn nt(
            m: usize, n: usize, k: usize, a: &[E], b: &[E], c: &mut [E], acc: bool,
        ) {
            let bt = Operand { at: b.as_ptr(), row_stride: k, depth_stride: 1, packed: false };
            let rows = NT_ROWS.min(m);
            let d_len = n * rows;
            let len = d_len + pack_len(n, k, bt);
            $crate::gemm::x86::scratch::with_scratch(len, |buf| {
                let (d, packs) = buf.split_at_mut(d_len);
                let mut i = 0;
                while i < m {
                    let rows = NT_ROWS.min(m - i);
                    // SAFETY: rows i..i+rows of A and C are in bounds; D holds n·rows elements;
                    // `packs` is the packing space.
                    unsafe {
                        let at = Operand { at: a.as_ptr().add(i * k), row_stride: k, depth_stride: 1, packed: true };
                        product(n, rows, k, bt, at, d.as_mut_ptr(), false, packs.as_mut_ptr());
                        transpose_into(n, rows, d.as_ptr(), c.as_mut_ptr().add(i * n), acc);
                    }
                    i += rows;
                }
            })
        }

        /// A matrix operand: element (i, p) — row i, depth p — is at
        /// `at + i·row_stride + p·depth_stride`. For B, "rows" are D's columns.
        #[derive(Clone, Copy)]
        struct Operand {
            at: *const E,
            row_stride: usize,
            depth_stride: usize,
            /// Whether to copy it into panels first (always for B; for A when its rows are
            /// strided in depth, which would stride the broadcast loads).
            packed: bool,
        }

        impl Operand {
            /// The same operand advanced by `rows` rows and `depth` depth.
            #[inline(always)]
            unsafe fn offset(self, rows: usize, depth: usize) -> Self {
                // SAFETY: the caller stays inside the matrix.
                let at = unsafe { self.at.add(rows * self.row_stride + depth * self.depth_stride) };
                Self { at, ..self }
            }
        }

        /// Floats of packing space `product` needs for these sizes.
        fn pack_len(m: usize, k: usize, a: Operand) -> usize {
            let kc = BCAST_DEPTH.min(k);
            let a_len = if a.packed { block_rows(m) * kc } else { 0 };
            a_len + kc * $nv * LANES
        }

        /// C[m×n] (+)= A[m×k] · B[k×n], C row-major with row stride n; `pack` holds
        /// `pack_len(m, k, a)` elements.
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn product(
            m: usize, n: usize, k: usize, a: Operand, b: Operand, c: *mut E, acc: bool,
            pack: *mut E,
        ) {
            if m == 0 || n == 0 {
                return;
            }
            if k == 0 {
                if !acc {
                    // SAFETY: C holds m·n elements (checked by the caller).
                    unsafe { core::ptr::write_bytes(c, 0, m * n) };
                }
                return;
            }
            // Equal depth chunks of at most BCAST_DEPTH (784 = 7 × 112, not 6 × 128 + 16).
            let chunk = k.div_ceil(k.div_ceil(BCAST_DEPTH));
            let block_rows = block_rows(m);
            let a_len = if a.packed { block_rows * chunk } else { 0 };
            let (a_pack, b_pack) = (pack, pack.wrapping_add(a_len));
            let block = $nv * LANES;
            let mut k0 = 0;
            // SAFETY (all calls): rows i0.., columns j.. and depth k0.. are in bounds by the loop
            // conditions; the packs hold what these sizes need (see `pack_len`).
            unsafe {
                while k0 < k {
                    let kc = chunk.min(k - k0);
                    // Later depth chunks add to what the first one stored.
                    let acc = acc || k0 > 0;
                    let b_k = b.offset(0, k0);
                    let mut i0 = 0;
                    while i0 < m {
                        let mb = block_rows.min(m - i0);
                        // The A panels, read by `tile` with strides (1, a_depth_stride).
                        let a_ik = a.offset(i0, k0);
                        let a_panels = if a.packed {
                            pack_a(mb, kc, a_ik, a_pack);
                            Operand { at: a_pack, row_stride: 1, depth_stride: BCAST_ROWS, packed: true }
                        } else {
                            a_ik
                        };
                        let c_i = c.add(i0 * n);
                        let mut j = 0;
                        while j + block <= n {
                            pack_b(kc, b_k.offset(j, 0), block, block, b_pack);
                            row_panels::<$nv, false>(mb, n, kc, a_panels, b_pack, c_i.add(j), LANES, acc);
                            j += block;
                        }
                        while j + LANES <= n {
                            pack_b(kc, b_k.offset(j, 0), LANES, LANES, b_pack);
                            row_panels::<1, false>(mb, n, kc, a_panels, b_pack, c_i.add(j), LANES, acc);
                            j += LANES;
                        }
                        if j < n {
                            pack_b(kc, b_k.offset(j, 0), n - j, LANES, b_pack);
                            row_panels::<1, true>(mb, n, kc, a_panels, b_pack, c_i.add(j), n - j, acc);
                        }
                        i0 += mb;
                    }
                    k0 += kc;
                }
            }
        }

        /// Rows of A per block that every column block of C runs through: at most `ROW_BLOCK`
        /// (then near-equal blocks), a multiple of `BCAST_ROWS`.
        fn block_rows(m: usize) -> usize {
            m.div_ceil(m.div_ceil(ROW_BLOCK).max(1)).next_multiple_of(BCAST_ROWS)
        }

        /// C[m×n] (+)= Dᵀ for D[n×m]: 8×8 blocks transposed in registers, single elements at
        /// the edges.
        #[target_feature(enable = $feature)]
        unsafe fn transpose_into(n: usize, m: usize, d: *const E, c: *mut E, acc: bool) {
            let (m8, n8) = (m / 8 * 8, n / 8 * 8);
            // SAFETY: D holds n·m elements and C m·n; blocks stay below (m8, n8).
            unsafe {
                let mut block: [E; 64] = [0.0; 64];
                for i in (0..m8).step_by(8) {
                    for j in (0..n8).step_by(8) {
                        let (from, to) = (d.add(j * m + i), c.add(i * n + j));
                        if !acc {
                            transpose_8x8(from, m, to, n);
                            continue;
                        }
                        transpose_8x8(from, m, block.as_mut_ptr(), 8);
                        for (p, row) in block.chunks_exact(8).enumerate() {
                            let out = to.add(p * n);
                            for (q, &x) in row.iter().enumerate() {
                                *out.add(q) += x;
                            }
                        }
                    }
                }
                for i in 0..m {
                    let first = if i < m8 { n8 } else { 0 };
                    for j in first..n {
                        let (x, at) = (*d.add(j * m + i), c.add(i * n + j));
                        *at = if acc { *at + x } else { x };
                    }
                }
            }
        }

        /// Packs A(0..m, 0..kc) into panels of `BCAST_ROWS` rows, each laid out [p][r], rows
        /// past m zero.
        #[target_feature(enable = $feature)]
        unsafe fn pack_a(m: usize, kc: usize, a: Operand, dst: *mut E) {
            let mut i = 0;
            let mut panel = dst;
            while i < m {
                let rows = BCAST_ROWS.min(m - i);
                // SAFETY: rows i..i+rows, depth 0..kc of A are in bounds; the panel holds
                // kc·BCAST_ROWS elements.
                unsafe {
                    let src = a.offset(i, 0);
                    for p in 0..kc {
                        let from = src.at.add(p * src.depth_stride);
                        let to = panel.add(p * BCAST_ROWS);
                        if src.row_stride == 1 && BCAST_ROWS < LANES {
                            // The panel's rows are adjacent in A (`tn`): one masked vector.
                            store_part(to, load_part(from, rows), BCAST_ROWS);
                            continue;
                        }
                        for r in 0..BCAST_ROWS {
                            *to.add(r) = if r < rows { *from.add(r * src.row_stride) } else { 0.0 };
                        }
                    }
                    panel = panel.add(kc * BCAST_ROWS);
                }
                i += rows;
            }
        }

        /// Packs `width` columns of kc depth rows of B into rows of `stride` elements ([p][j]),
        /// zero-filling columns width..stride.
        #[target_feature(enable = $feature)]
        unsafe fn pack_b(kc: usize, b: Operand, width: usize, stride: usize, dst: *mut E) {
            // SAFETY: depth 0..kc and columns 0..width of B are in bounds; dst holds kc·stride
            // elements.
            unsafe {
                if b.row_stride == 1 {
                    // Depth rows are contiguous: copy them a vector at a time.
                    for p in 0..kc {
                        let (from, to) = (b.at.add(p * b.depth_stride), dst.add(p * stride));
                        let mut col = 0;
                        while col < stride {
                            let v = match width.saturating_sub(col) {
                                0 => zero(),
                                left if left < LANES => load_part(from.add(col), left),
                                _ => load(from.add(col)),
                            };
                            store(to.add(col), v);
                            col += LANES;
                        }
                    }
                    return;
                }
                // Columns are contiguous in depth (a transposed read): 8×8 blocks in registers
                // where the depth stride allows, single elements at the edges.
                let (full_cols, full_depth) = if b.depth_stride == 1 {
                    (width / 8 * 8, kc / 8 * 8)
                } else {
                    (0, 0)
                };
                for j in (0..full_cols).step_by(8) {
                    for p in (0..full_depth).step_by(8) {
                        transpose_8x8(b.at.add(j * b.row_stride + p), b.row_stride, dst.add(p * stride + j), stride);
                    }
                }
                for j in 0..width {
                    let col = b.at.add(j * b.row_stride);
                    let first = if j < full_cols { full_depth } else { 0 };
                    for p in first..kc {
                        *dst.add(p * stride + j) = *col.add(p * b.depth_stride);
                    }
                }
                for p in 0..kc {
                    core::ptr::write_bytes(dst.add(p * stride + width), 0, stride - width);
                }
            }
        }

        /// One column block of C (NV vectors, the last one only `tail` lanes stored if MASKED)
        /// for every row panel of A; `c` points at the block's first column, rows n apart.
        #[target_feature(enable = $feature)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn row_panels<const NV: usize, const MASKED: bool>(
            m: usize, n: usize, kc: usize, a: Operand, b_pack: *const E, c: *mut E,
            tail: usize, acc: bool,
        ) {
            let mut i = 0;
            while i < m {
                let rows = BCAST_ROWS.min(m - i);
                // Packed panels follow each other; an in-place A moves down by rows.
                // SAFETY: rows i..i+rows of A and C exist; B's block is packed.
                unsafe {
                    let a_i = if a.packed { a.offset(i / BCAST_ROWS * kc * BCAST_ROWS, 0) } else { a.offset(i, 0) };
                    let c_i = c.add(i * n);
                    // The next tile's C rows are far apart in a wide C; fetching them now hides
                    // their latency behind this tile's work.
                    let next = (i + rows)..m.min(i + rows + BCAST_ROWS);
                    for r in next {
                        let row = c.add(r * n);
                        for line in (0..NV * LANES).step_by(LINE_ELEMENTS) {
                            core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(row.add(line).cast());
                        }
                    }
                    match rows {
                        $($br => tile::<$br, NV, MASKED>(kc, a_i, b_pack, c_i, n, tail, acc),)+
                        _ => unreachable!("row block taller than BCAST_ROWS"),
                    }
                }
                i += rows;
            }
        }

        /// C tile MR×(NV·LANES) (+)= Σ_p A(r, p) · Bpack[p, ..], the tile in registers.
        ///
        /// Not inlined, so the tile gets the whole register file to itself.
        #[target_feature(enable = $feature)]
        #[inline(never)]
        #[allow(clippy::too_many_arguments)]
        unsafe fn tile<const MR: usize, const NV: usize, const MASKED: bool>(
            kc: usize, a: Operand, b_pack: *const E, c: *mut E, ldc: usize, tail: usize,
            acc: bool,
        ) {
            // SAFETY: the caller guarantees MR rows of A over kc depth, kc packed rows of B
            // (NV·LANES wide) and the C tile (the last vector `tail` wide when MASKED).
            unsafe {
                // Only constant indices touch `sum` (after unrolling), so it lives in registers.
                let mut sum = [[zero(); NV]; MR];
                if acc {
                    for r in 0..MR {
                        for v in 0..NV {
                            let at = c.add(r * ldc + v * LANES);
                            sum[r][v] = if MASKED && v + 1 == NV { load_part(at, tail) } else { load(at) };
                        }
                    }
                }
                let mut a_rows = [a.at; MR];
                for r in 0..MR {
                    a_rows[r] = a.at.add(r * a.row_stride);
                }
                // One depth step: NV vectors of B, MR broadcasts of A, MR·NV FMAs.
                macro_rules! step {
                    ($p:expr) => {{
                        let b_p = b_pack.add($p * NV * LANES);
                        let mut bv = [zero(); NV];
                        for v in 0..NV {
                            bv[v] = load(b_p.add(v * LANES));
                        }
                        let depth = $p * a.depth_stride;
                        for r in 0..MR {
                            let a_rp = splat(*a_rows[r].add(depth));
                            for v in 0..NV {
                                sum[r][v] = fmadd(a_rp, bv[v], sum[r][v]);
                            }
                        }
                    }};
                }
                // Two steps per iteration halve the loop overhead.
                let mut p = 0;
                while p + 2 <= kc {
                    step!(p);
                    step!(p + 1);
                    p += 2;
                }
                if p < kc {
                    step!(p);
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
    };
}
