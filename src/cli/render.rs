//! The reports `harness run` and `harness exec` write: table, JSON or JUnit.

use std::io::{IsTerminal, Write};

use super::args::Format;
use crate::report;

/// Writes `reports` as `format`; a table is coloured on a terminal unless `NO_COLOR` is set.
pub(super) fn render(
    reports: &[crate::outcome::RunReport],
    format: Format,
    out: &mut impl Write,
) -> std::io::Result<()> {
    match format {
        Format::Table => {
            let colour = std::io::stdout().is_terminal()
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
            report::table::write_styled(reports, out, colour)
        }
        Format::Json => report::json::write(reports, out),
        Format::Junit => report::junit::write(reports, out),
    }
}
