//! The front half of `spec` without code generation, so it runs many times faster: arbitrary
//! bytes as `.net` text → parse → check, then `summary` (what `netc check` prints) for a spec
//! that checks, or both renderings of the diagnostics. Must never panic; every diagnostic must
//! point inside the text.
#![no_main]

use libfuzzer_sys::fuzz_target;
use netc_fuzz::check_diagnostics;
use netc_syntax::SourceFile;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let src = SourceFile::new("fuzz.net", text);
    match netc_sema::check(&src) {
        Ok(net) => {
            let _ = netc_sema::summary(&net);
        }
        Err(diagnostics) => check_diagnostics(&src, &diagnostics),
    }
});
