//! Where each row of a dataset came from: its file(s) and its line (CSV) or record (IDX).
//! Rows travel through the validation split and are renumbered by it (differently for every
//! seed), so an error about a row names its origin, never its position in a split.

use std::path::{Path, PathBuf};

/// The files of a dataset's rows and each row's place in them.
#[derive(Clone, Debug, PartialEq)]
pub struct Origin {
    features: PathBuf,
    targets: PathBuf,
    unit: Unit,
    /// Per row: its 1-based line (CSV) or 0-based record index (IDX), in row order.
    records: Vec<usize>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Unit {
    Line,
    Record,
}

impl Origin {
    /// Rows read from the lines `lines` (1-based, one per row) of one CSV file.
    pub(crate) fn csv(path: &Path, lines: Vec<usize>) -> Origin {
        Origin {
            features: path.to_path_buf(),
            targets: path.to_path_buf(),
            unit: Unit::Line,
            records: lines,
        }
    }

    /// `rows` records of an IDX image file and its label file, in file order.
    pub(crate) fn idx(images: &Path, labels: &Path, rows: usize) -> Origin {
        Origin {
            features: images.to_path_buf(),
            targets: labels.to_path_buf(),
            unit: Unit::Record,
            records: (0..rows).collect(),
        }
    }

    /// The file the features come from.
    pub fn features_file(&self) -> &Path {
        &self.features
    }

    /// The file the labels or target values come from.
    pub fn targets_file(&self) -> &Path {
        &self.targets
    }

    /// Rows described.
    pub(crate) fn rows(&self) -> usize {
        self.records.len()
    }

    /// `line 17` or `record 1234`: row `row`'s place in its file.
    pub fn place(&self, row: usize) -> String {
        let record = self.records.get(row).copied().unwrap_or(row);
        match self.unit {
            Unit::Line => format!("line {record}"),
            Unit::Record => format!("record {record}"),
        }
    }

    /// The origin of the rows `indices`, in that order.
    pub(crate) fn select(&self, indices: &[usize]) -> Origin {
        Origin {
            records: indices.iter().map(|&i| self.records[i]).collect(),
            ..self.without_records()
        }
    }

    /// Reduced to the rows `kept` (ascending) in its own buffer, as the split keeps training
    /// rows.
    pub(crate) fn keep(mut self, kept: &[usize]) -> Origin {
        for (j, &i) in kept.iter().enumerate() {
            self.records[j] = self.records[i];
        }
        self.records.truncate(kept.len());
        self
    }

    fn without_records(&self) -> Origin {
        Origin {
            features: self.features.clone(),
            targets: self.targets.clone(),
            unit: self.unit,
            records: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_keep_their_place_when_selected_or_compacted() {
        let csv = Origin::csv(Path::new("a.csv"), vec![2, 3, 5, 8]);
        assert_eq!(csv.place(2), "line 5");
        let picked = csv.select(&[3, 0]);
        assert_eq!(
            (picked.place(0), picked.place(1)),
            ("line 8".into(), "line 2".into())
        );
        let kept = csv.keep(&[1, 3]);
        assert_eq!(
            (kept.place(0), kept.place(1)),
            ("line 3".into(), "line 8".into())
        );

        let idx = Origin::idx(Path::new("images"), Path::new("labels"), 5);
        assert_eq!(idx.select(&[4]).place(0), "record 4");
        assert_eq!(
            (idx.features_file(), idx.targets_file()),
            (Path::new("images"), Path::new("labels"))
        );
    }
}
