//! Colour choice and the one place the CLI turns things into terminal text.

use std::io::{IsTerminal, Write};

use netc_syntax::{Diagnostic, SourceFile};

use crate::args::ColorChoice;

/// Where a command writes: `out` for results, `err` for diagnostics and progress.
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
    /// Whether `err` gets ANSI colour (decided once, from `--color`).
    pub color: bool,
}

impl<'a> Io<'a> {
    pub fn new(out: &'a mut dyn Write, err: &'a mut dyn Write, color: bool) -> Self {
        Io { out, err, color }
    }

    /// Prints rendered diagnostics for `file` to `err`.
    pub fn diagnostics(&mut self, file: &SourceFile, diagnostics: &[Diagnostic]) {
        let text = if self.color {
            netc_syntax::render_ansi(file, diagnostics)
        } else {
            netc_syntax::render_plain(file, diagnostics)
        };
        // A closed stderr leaves nothing better to do than carry on to the exit code.
        let _ = write!(self.err, "{text}");
        if !text.is_empty() && !text.ends_with('\n') {
            let _ = writeln!(self.err);
        }
    }

    /// `error: <message>` on `err`, the label in bold red when colouring.
    pub fn error(&mut self, message: &str) {
        let _ = if self.color {
            writeln!(self.err, "\x1b[1;31merror\x1b[0m\x1b[1m:\x1b[0m {message}")
        } else {
            writeln!(self.err, "error: {message}")
        };
    }

    /// A progress line on `err` (`    Finished`-style status, like cargo's).
    pub fn status(&mut self, verb: &str, message: &str) {
        let _ = if self.color {
            writeln!(self.err, "\x1b[1;32m{verb:>12}\x1b[0m {message}")
        } else {
            writeln!(self.err, "{verb:>12} {message}")
        };
    }
}

/// `auto` colours only an interactive stderr, and respects the NO_COLOR convention.
pub fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
        }
    }
}
