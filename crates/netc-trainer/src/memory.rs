//! Refusing a run that cannot fit in memory before allocating it: the model's own figure
//! (`Network::MODEL_BYTES`, sema's estimate) plus the data set's, against `--max-memory` or,
//! on Linux, what the kernel says is available. Allocating first and failing later would abort
//! the process (`memory allocation of … bytes failed`) or push the machine into swap.

use netc_runtime::Real;
use netc_runtime::data::{Dataset, Splits};
use netc_runtime::ensemble::EnsembleConfig;
use netc_runtime::error::Error;
use netc_runtime::network::Network;

/// How much memory a run may use, and where that figure comes from (for the message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Budget {
    /// `--max-memory SIZE`.
    Flag(u64),
    /// `MemAvailable` of `/proc/meminfo`, read before the data is loaded.
    Available(u64),
    /// Neither: no check (not Linux, or no `/proc`).
    Unknown,
}

impl Budget {
    /// The flag's value, else the memory available now.
    pub fn new(max_memory: Option<u64>) -> Budget {
        match max_memory {
            Some(bytes) => Budget::Flag(bytes),
            None => std::fs::read_to_string("/proc/meminfo")
                .ok()
                .and_then(|text| mem_available(&text))
                .map_or(Budget::Unknown, Budget::Available),
        }
    }

    /// `Ok` when `needed` bytes fit; else an error saying what needs them and what limits it.
    pub fn check(self, needed: u64, what: &str) -> Result<(), Error> {
        let (limit, source) = match self {
            Budget::Flag(bytes) => (bytes, "--max-memory"),
            Budget::Available(bytes) => (bytes, "available memory (MemAvailable)"),
            Budget::Unknown => return Ok(()),
        };
        if needed <= limit {
            return Ok(());
        }
        let hint = match self {
            Budget::Flag(_) => "raise --max-memory",
            _ => "free memory, or pass --max-memory SIZE if you know better",
        };
        Err(Error::Memory(format!(
            "not enough memory for {what}: {} needed, but {source} is {}; use a smaller batch \
             or model, or {hint}",
            netc_limits::human_bytes(needed),
            netc_limits::human_bytes(limit)
        )))
    }
}

/// One model of `M` (all members of an ensemble, which are trained and kept together).
pub fn models_bytes<M: Network>(ensemble: Option<EnsembleConfig>) -> u64 {
    let models = ensemble.map_or(1, |e| e.models as u64);
    M::MODEL_BYTES.saturating_mul(models)
}

/// The loaded data, plus the bootstrap copy of the training split an ensemble makes.
pub fn data_bytes<M: Network>(splits: &Splits<M::Float>, ensemble: bool) -> u64 {
    let copies = if ensemble { 2 } else { 1 };
    let sets = [
        Some(&splits.train),
        splits.validation.as_ref(),
        splits.test.as_ref(),
    ];
    let train = dataset_bytes(&splits.train).saturating_mul(copies - 1);
    sets.into_iter()
        .flatten()
        .map(dataset_bytes)
        .fold(train, u64::saturating_add)
}

/// Features as stored (a byte per pixel of a u8 file, else 4 or 8), 4 bytes per label, 4 or 8
/// per target value.
fn dataset_bytes<V: Real>(data: &Dataset<V>) -> u64 {
    let labels = (data.labels.len() as u64).saturating_mul(4);
    let targets = (data.targets.len() as u64).saturating_mul(V::BYTES as u64);
    data.x
        .stored_bytes()
        .saturating_add(labels)
        .saturating_add(targets)
}

/// `MemAvailable:  123456 kB` → bytes.
fn mem_available(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let mut words = line.split_whitespace().skip(1);
    let kib: u64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then(|| kib.saturating_mul(1024))
}

/// `--max-memory SIZE`: bytes, or a number with K, M, G or T (powers of 1024, an optional `B`
/// or `iB`): `512M`, `8G`, `1.5G`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let trimmed = text.trim();
    let upper = trimmed.to_ascii_uppercase();
    let number_end = upper
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(upper.len());
    let (number, unit) = upper.split_at(number_end);
    let shift = match unit.trim_start() {
        "" | "B" => 0,
        "K" | "KB" | "KIB" => 10,
        "M" | "MB" | "MIB" => 20,
        "G" | "GB" | "GIB" => 30,
        "T" | "TB" | "TIB" => 40,
        _ => {
            return Err(format!(
                "`{trimmed}` is not a size: write bytes or e.g. 512M, 8G"
            ));
        }
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{trimmed}` is not a size: write bytes or e.g. 512M, 8G"))?;
    let size = value * (1u64 << shift) as f64;
    if !(size >= 1.0 && size < u64::MAX as f64) {
        return Err(format!(
            "`{trimmed}` is not a size between 1 byte and 16 EiB"
        ));
    }
    Ok(size as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use netc_runtime::data::Features;
    use netc_runtime::test_model::{LogReg, separable_dataset};

    #[test]
    fn sizes_take_binary_units() {
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("8G"), Ok(8 << 30));
        assert_eq!(parse_size("8gib"), Ok(8 << 30));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert_eq!(parse_size("64 KB"), Ok(64 << 10));
        for bad in ["", "G", "8X", "-1G", "0", "1e3", "99999999T"] {
            assert!(parse_size(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn mem_available_reads_proc_meminfo() {
        let text = "MemTotal:       8000000 kB\nMemFree:  10 kB\nMemAvailable:    4000000 kB\n";
        assert_eq!(mem_available(text), Some(4_096_000_000));
        assert_eq!(mem_available("MemTotal: 1 kB\n"), None);
        assert_eq!(mem_available("MemAvailable: lots\n"), None);
    }

    #[test]
    fn a_run_that_cannot_fit_is_refused_naming_both_figures() {
        assert!(Budget::Flag(1000).check(1000, "the model").is_ok());
        assert!(Budget::Unknown.check(u64::MAX, "the model").is_ok());
        let error = Budget::Flag(512 << 20)
            .check(4_000_000_000_000, "the model and its data")
            .unwrap_err();
        assert!(matches!(error, Error::Memory(_)), "{error:?}");
        assert_eq!(
            error.to_string(),
            "not enough memory for the model and its data: 4.0 TB needed, but --max-memory is \
             536.9 MB; use a smaller batch or model, or raise --max-memory"
        );
        let error = Budget::Available(1 << 30)
            .check(u64::MAX, "the model")
            .unwrap_err();
        assert!(
            error
                .to_string()
                .contains("available memory (MemAvailable) is 1.1 GB")
        );
    }

    #[test]
    fn data_bytes_count_every_split() {
        let splits = Splits {
            train: separable_dataset(10, 0),
            validation: Some(separable_dataset(5, 0)),
            test: None,
        };
        // 4 features and a label per row, 4 bytes each.
        assert_eq!(data_bytes::<LogReg>(&splits, false), 15 * 5 * 4);
        assert_eq!(models_bytes::<LogReg>(None), (2 * 15 + 8 * 3) * 4);
    }

    #[test]
    fn data_bytes_count_a_u8_files_pixels_as_bytes() {
        let images = ndarray::Array2::from_elem((10, 4), 7u8);
        let train = Dataset::new(Features::from_bytes(images), vec![0; 10]).unwrap();
        let splits = Splits {
            train,
            validation: None,
            test: None,
        };
        // 4 one-byte features and a 4-byte label per row; an ensemble's bootstrap copy again.
        assert_eq!(data_bytes::<LogReg>(&splits, false), 10 * (4 + 4));
        assert_eq!(data_bytes::<LogReg>(&splits, true), 2 * 10 * (4 + 4));
    }
}
