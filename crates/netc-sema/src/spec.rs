//! The whole file: one block of each kind, then each block's pass, then the lowering.

use netc_syntax::ast::{Block, BlockKind, File};
use netc_syntax::{Diagnostic, ErrorCode, Span};

use crate::ctx::Ctx;
use crate::ir;
use crate::{consistency, data, model, precision, search, train};

/// More errors than this are cut off: nobody reads the 51st, and rendering them all
/// would make a garbage input slow to report.
const MAX_DIAGNOSTICS: usize = 50;

pub(crate) fn analyze(file: &File) -> Result<ir::Network, Vec<Diagnostic>> {
    let mut ctx = Ctx::default();
    let blocks = Blocks::collect(&mut ctx, file);

    let model = match blocks.model {
        Some(block) => model::analyze(&mut ctx, block),
        None => {
            ctx.report(
                Diagnostic::error(ErrorCode::Missing, "the spec has no `model` block")
                    .with_primary(Span::new(0, 0), "expected `model <name> { … }`")
                    .with_note(
                        "help: start with `model my_net { input 784 dense 10 loss softmax }`",
                    ),
            );
            None
        }
    };
    let data = blocks
        .data
        .map(|block| data::analyze(&mut ctx, block, model.as_ref()));
    let train = train::analyze(&mut ctx, blocks.train, model.as_ref());
    let search = blocks
        .search
        .map(|block| search::analyze_search(&mut ctx, block, model.as_ref(), &train));
    let ensemble = blocks
        .ensemble
        .map(|block| search::analyze_ensemble(&mut ctx, block, model.as_ref()));
    precision::check(&mut ctx, &train.precision);
    if let Some(Some(data)) = &data {
        consistency::check(&mut ctx, &train, data);
    }

    match (ctx.diags.is_empty(), model, data, search, ensemble) {
        (true, Some(model), data, search, ensemble) => Ok(ir::Network {
            model,
            data: data.flatten(),
            train,
            search: search.flatten(),
            ensemble: ensemble.flatten(),
        }),
        _ => {
            ctx.diags
                .sort_by_key(|d| d.primary_span().map_or(0, |s| s.start));
            if ctx.diags.len() > MAX_DIAGNOSTICS {
                let hidden = ctx.diags.len() - MAX_DIAGNOSTICS;
                ctx.diags.truncate(MAX_DIAGNOSTICS);
                if let Some(last) = ctx.diags.last_mut() {
                    last.notes.push(format!("{hidden} more errors not shown"));
                }
            }
            Err(ctx.diags)
        }
    }
}

#[derive(Default)]
struct Blocks<'a> {
    model: Option<&'a Block>,
    data: Option<&'a Block>,
    train: Option<&'a Block>,
    search: Option<&'a Block>,
    ensemble: Option<&'a Block>,
}

impl<'a> Blocks<'a> {
    fn collect(ctx: &mut Ctx, file: &'a File) -> Blocks<'a> {
        let mut blocks = Blocks::default();
        for block in &file.blocks {
            let slot = match block.kind {
                BlockKind::Model { .. } => &mut blocks.model,
                BlockKind::Data => &mut blocks.data,
                BlockKind::Train => &mut blocks.train,
                BlockKind::Search => &mut blocks.search,
                BlockKind::Ensemble => &mut blocks.ensemble,
            };
            match slot {
                Some(first) => ctx.duplicate(
                    &format!("the `{}` block", block.kind.keyword()),
                    first.keyword_span,
                    block.keyword_span,
                ),
                None => *slot = Some(block),
            }
        }
        blocks
    }
}
