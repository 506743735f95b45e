//! [`HeadKind`]: which classic classifier a head is.

use std::fmt;
use std::str::FromStr;

/// The classic heads. Serialised (and parsed) as `logistic`, `svm_linear`, `svm_rbf`,
/// `random_forest`, `knn`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum HeadKind {
    /// Multinomial logistic regression with an L2 penalty (smartcore, L-BFGS).
    Logistic,
    /// Soft-margin SVM with the linear kernel, one-vs-one (smartcore's LaSVM solver).
    SvmLinear,
    /// Soft-margin SVM with the RBF kernel, one-vs-one (smartcore's LaSVM solver).
    SvmRbf,
    /// Random forest of unpruned Gini trees on bootstrap samples (smartcore).
    RandomForest,
    /// k nearest neighbours, Euclidean distance, uniform votes (smartcore, exhaustive search).
    Knn,
}

impl HeadKind {
    /// Every kind, in the order they are listed to users.
    pub const ALL: [HeadKind; 5] = [
        Self::Logistic,
        Self::SvmLinear,
        Self::SvmRbf,
        Self::RandomForest,
        Self::Knn,
    ];

    /// Every kind's name, in [`HeadKind::ALL`]'s order.
    pub const NAMES: [&'static str; 5] = {
        let mut names = [""; 5];
        let mut i = 0;
        while i < names.len() {
            names[i] = Self::ALL[i].name();
            i += 1;
        }
        names
    };

    /// The name used in configs, file names and tables (the serde name).
    pub const fn name(self) -> &'static str {
        match self {
            Self::Logistic => "logistic",
            Self::SvmLinear => "svm_linear",
            Self::SvmRbf => "svm_rbf",
            Self::RandomForest => "random_forest",
            Self::Knn => "knn",
        }
    }
}

impl fmt::Display for HeadKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.name())
    }
}

/// A head name that is not one of [`HeadKind::ALL`] (a [`crate::HeadError`] through `?`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown head {name:?}: expected one of {}", HeadKind::NAMES.join(", "))]
pub struct UnknownHead {
    /// The name as given.
    pub name: String,
}

impl FromStr for HeadKind {
    type Err = UnknownHead;

    /// Parses a name of [`HeadKind::NAMES`], ignoring case and surrounding blanks.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|kind| kind.name() == wanted)
            .ok_or_else(|| UnknownHead {
                name: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_display_fromstr_and_serde() -> Result<(), Box<dyn std::error::Error>>
    {
        for kind in HeadKind::ALL {
            assert_eq!(kind.to_string().parse::<HeadKind>()?, kind);
            #[derive(serde::Serialize, serde::Deserialize)]
            struct Wrap {
                head: HeadKind,
            }
            let text = toml::to_string(&Wrap { head: kind })?;
            assert_eq!(text.trim(), format!("head = \"{}\"", kind.name()));
            assert_eq!(toml::from_str::<Wrap>(&text)?.head, kind);
        }
        assert_eq!(" SVM_RBF ".parse::<HeadKind>()?, HeadKind::SvmRbf);
        Ok(())
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let err = "svm".parse::<HeadKind>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some("unknown head \"svm\": expected one of logistic, svm_linear, svm_rbf, random_forest, knn")
        );
    }
}
