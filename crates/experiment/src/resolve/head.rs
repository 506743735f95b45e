//! `[heads.<name>]`: the hyperparameter values a classic head chooses from, its declared ones
//! unless the grid file gives others.

use cxr_heads::{HeadKind, HeadSearch};

use super::Resolver;
use crate::error::Result;
use crate::raw::RawRun;

impl Resolver<'_> {
    /// A classic head's declared hyperparameter values, with `[heads.<name>]`'s in their place.
    pub(super) fn head_search(&self, raw: &RawRun, kind: HeadKind) -> Result<HeadSearch> {
        let mut search = HeadSearch::default_for(kind);
        let setting = format!("heads.{kind}");
        if let Some(given) = raw.heads.as_ref().and_then(|h| h.get(&kind)) {
            let keys = [
                ("c", given.c.is_some()),
                ("gamma_scale", given.gamma_scale.is_some()),
                ("trees", given.trees.is_some()),
                ("k", given.k.is_some()),
            ];
            let own: &[&str] = match &mut search {
                HeadSearch::Logistic { c } | HeadSearch::SvmLinear { c } => {
                    set(c, &given.c);
                    &["c"]
                }
                HeadSearch::SvmRbf { c, gamma_scale } => {
                    set(c, &given.c);
                    set(gamma_scale, &given.gamma_scale);
                    &["c", "gamma_scale"]
                }
                HeadSearch::RandomForest { trees } => {
                    set(trees, &given.trees);
                    &["trees"]
                }
                HeadSearch::Knn { k } => {
                    set(k, &given.k);
                    &["k"]
                }
            };
            if let Some((key, _)) = keys
                .iter()
                .find(|(key, given)| *given && !own.contains(key))
            {
                return Err(self.invalid(
                    &format!("{setting}.{key}"),
                    "...",
                    format!("{kind} takes no {key}: its settings are {}", own.join(", ")),
                ));
            }
        }
        search
            .validate()
            .map_err(|message| self.invalid(&setting, "...", message))?;
        Ok(search)
    }
}

/// Replaces a declared list with the one a grid file gives, if any.
fn set<T: Clone>(list: &mut Vec<T>, given: &Option<Vec<T>>) {
    if let Some(given) = given {
        list.clone_from(given);
    }
}
