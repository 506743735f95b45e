//! Pixel statistics as `preprocessing.json` records them (`cxr-results`' plain
//! [`PixelStatsRecord`]) and as batches normalise with them (`cxr-data`'s [`PixelStats`]): the
//! two conversions, in their own module so that loading a source run's weights
//! ([`crate::weights`]) and deriving a run's record ([`crate::preprocessing`]) share them
//! without importing each other.

use cxr_data::PixelStats;
use cxr_results::PixelStatsRecord;

/// `stats` as `preprocessing.json` records them.
pub fn stats_record(stats: PixelStats) -> PixelStatsRecord {
    PixelStatsRecord {
        mean: stats.mean,
        std: stats.std,
    }
}

/// The statistics a `preprocessing.json` recorded, to normalise with.
pub fn recorded_stats(record: PixelStatsRecord) -> PixelStats {
    PixelStats {
        mean: record.mean,
        std: record.std,
    }
}
