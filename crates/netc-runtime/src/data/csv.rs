//! Comma-separated samples, one per line: numeric features and either one integer label
//! column or a run of value-target columns. Blank lines are skipped; quoting is not supported
//! (numbers only). Values are parsed straight into the model's precision `V` (an f64 model
//! keeps all 17 digits).

use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use ndarray::Array2;

use crate::data::alloc::vec_with_capacity;
use crate::data::dataset::class_index;
use crate::data::{Dataset, Origin};
use crate::error::Error;
use crate::real::Real;

/// Loads a labelled CSV. `label_column` counts from 0, or from the end when negative (−1 is the
/// last column); `header` skips the first line.
pub fn load_csv<V: Real>(
    path: &Path,
    label_column: i64,
    header: bool,
) -> Result<Dataset<V>, Error> {
    let table = read_table::<V>(path, header)?;
    let columns = table.columns;
    let label_index = resolve_column(label_column, columns).ok_or_else(|| {
        Error::data(
            path,
            format!("label column {label_column} does not exist: the file has {columns} columns"),
        )
    })?;
    let mut x = vec_with_capacity(table.rows.len() * (columns - 1), path)?;
    let mut labels = vec_with_capacity(table.rows.len(), path)?;
    for (line, row) in &table.rows {
        for (c, &value) in row.iter().enumerate() {
            if c != label_index {
                x.push(value);
            }
        }
        let value = row[label_index];
        let label = class_index(value.to_f64()).ok_or_else(|| {
            Error::data(
                path,
                format!("line {line}: label {value} is not a class index (0, 1, 2, …)"),
            )
        })?;
        labels.push(label);
    }
    let x = Array2::from_shape_vec((labels.len(), columns - 1), x)
        .map_err(|e| Error::data(path, e.to_string()))?;
    Ok(Dataset::new(x, labels)?.with_origin(Origin::csv(path, table.lines())))
}

/// Loads a CSV with value targets: columns `first..=last` (counted from 0, or from the end when
/// negative; −1 is the last column) are the targets, every other column is a feature;
/// `header` skips the first line. Targets are taken as they are (the driver checks 0/1 values
/// for multi-label logistic models).
pub fn load_csv_targets<V: Real>(
    path: &Path,
    first: i64,
    last: i64,
    header: bool,
) -> Result<Dataset<V>, Error> {
    let table = read_table::<V>(path, header)?;
    let columns = table.columns;
    let resolve = |column: i64| {
        resolve_column(column, columns).ok_or_else(|| {
            Error::data(
                path,
                format!("target column {column} does not exist: the file has {columns} columns"),
            )
        })
    };
    let (start, end) = (resolve(first)?, resolve(last)?);
    if start > end {
        return Err(Error::data(
            path,
            format!("target columns {first}..{last} are empty: the first comes after the last"),
        ));
    }
    let width = end - start + 1;
    if width == columns {
        return Err(Error::data(
            path,
            format!("target columns {first}..{last} leave no feature column"),
        ));
    }
    let rows = table.rows.len();
    let mut x = vec_with_capacity(rows * (columns - width), path)?;
    let mut targets = vec_with_capacity(rows * width, path)?;
    for (_, row) in &table.rows {
        x.extend(row[..start].iter().chain(&row[end + 1..]));
        targets.extend_from_slice(&row[start..=end]);
    }
    let x = Array2::from_shape_vec((rows, columns - width), x)
        .map_err(|e| Error::data(path, e.to_string()))?;
    let targets = Array2::from_shape_vec((rows, width), targets)
        .map_err(|e| Error::data(path, e.to_string()))?;
    Ok(Dataset::with_targets(x, targets)?.with_origin(Origin::csv(path, table.lines())))
}

/// Loads an unlabelled CSV (for `predict`): every column is a feature.
pub fn load_csv_features<V: Real>(path: &Path, header: bool) -> Result<Array2<V>, Error> {
    let table = read_table::<V>(path, header)?;
    let rows = table.rows.len();
    let mut values = vec_with_capacity(rows * table.columns, path)?;
    values.extend(table.rows.into_iter().flat_map(|(_, row)| row));
    Array2::from_shape_vec((rows, table.columns), values)
        .map_err(|e| Error::data(path, e.to_string()))
}

struct Table<V> {
    columns: usize,
    /// (1-based line number, values) for every non-blank data line.
    rows: Vec<(usize, Vec<V>)>,
}

impl<V> Table<V> {
    /// Every row's line number, in row order.
    fn lines(&self) -> Vec<usize> {
        self.rows.iter().map(|(line, _)| *line).collect()
    }
}

/// The longest line read. A file without line breaks (a binary file, a device) would otherwise
/// be read whole as one line; a CSV line this long would hold some 400,000 numbers.
const MAX_LINE_BYTES: usize = 4 << 20;

fn read_table<V: Real>(path: &Path, header: bool) -> Result<Table<V>, Error> {
    let (file, _) = crate::input_file::open(path)?;
    let mut reader = BufReader::new(file);
    let mut columns = None;
    let mut rows = Vec::new();
    let mut line = Vec::new();
    for line_number in 1.. {
        if !read_line(&mut reader, &mut line, path, line_number)? {
            break;
        }
        if line_number == 1 && header {
            continue;
        }
        let text = std::str::from_utf8(&line).map_err(|_| {
            Error::data(
                path,
                format!("line {line_number} is not UTF-8 text: is this a CSV file?"),
            )
        })?;
        if text.trim().is_empty() {
            continue;
        }
        let row = parse_row(text, path, line_number)?;
        match columns {
            None => columns = Some(row.len()),
            Some(expected) if expected != row.len() => {
                return Err(Error::data(
                    path,
                    format!(
                        "line {line_number}: {} columns, earlier lines have {expected}",
                        row.len()
                    ),
                ));
            }
            Some(_) => {}
        }
        rows.push((line_number, row));
    }
    let columns = columns.ok_or_else(|| Error::data(path, "no data rows"))?;
    Ok(Table { columns, rows })
}

/// Reads the next line (without its line break) into `line`; false at the end of the file.
fn read_line(
    reader: &mut impl BufRead,
    line: &mut Vec<u8>,
    path: &Path,
    line_number: usize,
) -> Result<bool, Error> {
    line.clear();
    let read = Read::by_ref(reader)
        .take(MAX_LINE_BYTES as u64 + 2) // room for a "\r\n" after a longest line
        .read_until(b'\n', line)
        .map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
    if line.last() == Some(&b'\n') {
        line.pop();
        if line.last() == Some(&b'\r') {
            line.pop();
        }
    }
    if line.len() > MAX_LINE_BYTES {
        return Err(Error::data(
            path,
            format!(
                "line {line_number} is longer than {} MiB, the most a CSV line may have: is \
                 this a CSV file?",
                MAX_LINE_BYTES >> 20
            ),
        ));
    }
    Ok(read > 0)
}

/// The comma-separated values of one line; each must be a finite number.
fn parse_row<V: Real>(text: &str, path: &Path, line_number: usize) -> Result<Vec<V>, Error> {
    let mut row = Vec::new();
    for (c, field) in text.split(',').enumerate() {
        let field = field.trim();
        let at = || format!("line {line_number}, column {}", c + 1);
        let value: V = field
            .parse()
            .map_err(|_| Error::data(path, format!("{}: `{field}` is not a number", at())))?;
        if !value.is_finite() {
            return Err(Error::data(
                path,
                format!(
                    "{}: `{field}` is {value} as a {}-bit float: values must be finite numbers",
                    at(),
                    V::BITS
                ),
            ));
        }
        row.push(value);
    }
    Ok(row)
}

fn resolve_column(column: i64, columns: usize) -> Option<usize> {
    let columns = i64::try_from(columns).ok()?;
    let index = if column < 0 { columns + column } else { column };
    (0..columns).contains(&index).then_some(index as usize)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_csv(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "netc-runtime-csv-{name}-{}.csv",
            std::process::id()
        ));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn header_and_negative_label_column() {
        let path = write_csv("header", "x1,x2,class\n0,0,0\n0, 1 ,1\n\n1,0,1\n");
        let data = load_csv::<f32>(&path, -1, true).unwrap();
        assert_eq!((data.len(), data.features()), (3, 2));
        assert_eq!(data.labels, vec![0, 1, 1]);
        assert_eq!(data.x.to_floats().row(1).to_vec(), vec![0.0, 1.0]);
    }

    #[test]
    fn label_in_the_first_column() {
        let path = write_csv("first", "2,0.5,0.25\n1,1.5,2.5\n");
        let data = load_csv::<f32>(&path, 0, false).unwrap();
        assert_eq!(data.labels, vec![2, 1]);
        assert_eq!(data.x.to_floats().row(0).to_vec(), vec![0.5, 0.25]);
    }

    #[test]
    fn errors_name_the_line() {
        let cases = [
            (
                "bad-number",
                "a,b,c\n1,2,0\n1,x,0\n",
                "line 3, column 2: `x` is not a number",
            ),
            (
                "ragged",
                "1,2,0\n1,0\n",
                "line 2: 2 columns, earlier lines have 3",
            ),
            (
                "bad-label",
                "1,2,0\n1,2,0.5\n",
                "line 2: label 0.5 is not a class index",
            ),
            ("empty", "a,b\n", "no data rows"),
        ];
        for (name, text, expected) in cases {
            let header = text.starts_with('a');
            match load_csv::<f32>(&write_csv(name, text), -1, header) {
                Err(Error::Data { message, .. }) => {
                    assert!(message.contains(expected), "{message}")
                }
                other => panic!("{name}: expected a data error, got {other:?}"),
            }
        }
        let error = load_csv::<f32>(&write_csv("column", "1,2\n"), 5, false).unwrap_err();
        assert!(
            error.to_string().contains("label column 5 does not exist"),
            "{error}"
        );
    }

    #[test]
    fn target_columns_from_the_end_and_in_the_middle() {
        let path = write_csv("targets", "a,b,t1,t2\n1,2,0.5,1\n3,4,-1,0\n");
        let data = load_csv_targets::<f32>(&path, -2, -1, true).unwrap();
        assert!(data.labels.is_empty());
        assert_eq!(data.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(data.targets, ndarray::array![[0.5, 1.0], [-1.0, 0.0]]);

        let path = write_csv("targets-middle", "1,10,11,2\n3,30,31,4\n");
        let data = load_csv_targets::<f32>(&path, 1, 2, false).unwrap();
        assert_eq!(data.x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
        assert_eq!(data.targets, ndarray::array![[10.0, 11.0], [30.0, 31.0]]);
        let single = load_csv_targets::<f32>(&path, 0, 0, false).unwrap();
        assert_eq!(single.targets, ndarray::array![[1.0], [3.0]]);
        assert_eq!(single.features(), 3);
    }

    #[test]
    fn bad_target_columns_are_refused() {
        let path = write_csv("targets-bad", "1,2,3\n");
        let cases = [
            (
                3,
                3,
                "target column 3 does not exist: the file has 3 columns",
            ),
            (-4, -1, "target column -4 does not exist"),
            (2, 1, "target columns 2..1 are empty"),
            (0, -1, "target columns 0..-1 leave no feature column"),
        ];
        for (first, last, expected) in cases {
            let error = load_csv_targets::<f32>(&path, first, last, false).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }

    #[test]
    fn nan_and_infinite_values_are_refused_naming_line_and_column() {
        for (field, shown) in [("nan", "NaN"), ("-inf", "-inf"), ("1e39", "inf")] {
            let text = format!("1,2,0\n\n3,{field},1\n");
            let error = load_csv::<f32>(&write_csv("non-finite", &text), -1, false).unwrap_err();
            assert!(
                error.to_string().contains(&format!(
                    "line 3, column 2: `{field}` is {shown} as a 32-bit float: values must be finite"
                )),
                "{error}"
            );
        }
        let error =
            load_csv_features::<f32>(&write_csv("non-finite-x", "1,NaN\n"), false).unwrap_err();
        assert!(
            error.to_string().contains("line 1, column 2: `NaN`"),
            "{error}"
        );
    }

    #[test]
    fn a_line_longer_than_the_cap_is_refused_stating_the_cap() {
        let mut text = "1,".repeat(MAX_LINE_BYTES / 2 + 1);
        text.push_str("0\n");
        let path = write_csv("long-line", &format!("1,0\n{text}"));
        let error = load_csv::<f32>(&path, -1, false).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("line 2 is longer than 4 MiB, the most a CSV line may have"),
            "{error}"
        );
        // A line of exactly the cap, with a Windows line break, is read.
        let mut text = "0,".repeat(MAX_LINE_BYTES / 2 - 1);
        text.push_str("01\r\n");
        assert_eq!(text.len(), MAX_LINE_BYTES + 2);
        let x = load_csv_features::<f32>(&write_csv("longest-line", &text), false).unwrap();
        assert_eq!(x.ncols(), MAX_LINE_BYTES / 2);
    }

    #[test]
    fn binary_files_and_devices_are_refused() {
        let path = write_csv("binary", "1,2\n");
        std::fs::write(&path, b"1,2\n\xff\xfe,3\n").unwrap();
        let error = load_csv_features::<f32>(&path, false).unwrap_err();
        assert!(
            error.to_string().contains("line 2 is not UTF-8 text"),
            "{error}"
        );
        if cfg!(unix) {
            let error = load_csv::<f32>(Path::new("/dev/zero"), -1, false).unwrap_err();
            assert!(
                error
                    .to_string()
                    .starts_with("/dev/zero: a character device, not a regular file"),
                "{error}"
            );
        }
    }

    #[test]
    fn rows_remember_their_lines() {
        let path = write_csv("origin", "a,b\n1,0\n\n2,1\r\n3,0\n");
        let data = load_csv::<f32>(&path, -1, true).unwrap();
        let origin = data.origin().expect("loaded from a file");
        assert_eq!(origin.features_file(), path);
        let places: Vec<String> = (0..3).map(|row| origin.place(row)).collect();
        assert_eq!(places, ["line 2", "line 4", "line 5"]);
        let targets = load_csv_targets::<f32>(&path, -1, -1, true).unwrap();
        assert_eq!(targets.origin().unwrap().place(1), "line 4");
    }

    #[test]
    fn features_only() {
        let x = load_csv_features::<f32>(&write_csv("features", "1,2\n3,4\n"), false).unwrap();
        assert_eq!(x, ndarray::array![[1.0, 2.0], [3.0, 4.0]]);
    }
}
