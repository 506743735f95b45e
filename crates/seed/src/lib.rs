//! Named random streams derived from one run seed: the one place that lists every stream.
//!
//! Every consumer of randomness gets its own stream, so changing how many numbers one of them
//! draws never shifts another:
//!
//! | stream | derivation | drawn by |
//! |---|---|---|
//! | split, sampler, augment, init, bootstrap, head | [`rng`], [`rng_at`], [`sub_seed`] of a [`Stream`]: the run seed and the stream's name hashed | the trainer, a classic head |
//! | decoder | [`decoder_rng`]: ChaCha8 seeded with the `init` sub-seed, its ChaCha stream 1 | an autoencoder's decoder init |
//! | report bootstrap | [`report_bootstrap_rng`]: ChaCha8 seeded with [`REPORT_BOOTSTRAP_SEED`] | the report's paired comparisons |
//! | feature map | [`feature_map_seed`]: the run seed as it is | the report's t-SNE maps |
//!
//! The last three keep the derivation they had before they were listed here (deriving them from
//! a hashed [`Stream`] would change every autoencoder run's weights and every report's numbers
//! and maps); new consumers take a [`Stream`].

use rand_chacha::rand_core::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// The named random streams of a run. The names are hashed into the streams, so they are part
/// of every seeded result: renaming one changes the runs that use it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stream {
    /// The stratified train/val/test split.
    Split,
    /// Each epoch's sampling order.
    Sampler,
    /// Training-time augmentation.
    Augment,
    /// Initial weights.
    Init,
    /// Bootstrap resampling of test images for confidence intervals.
    Bootstrap,
    /// A classic head's own randomness (a random forest's bootstrap and feature draws).
    Head,
}

impl Stream {
    /// The stream's name, as hashed into its seed.
    pub fn name(self) -> &'static str {
        match self {
            Self::Split => "split",
            Self::Sampler => "sampler",
            Self::Augment => "augment",
            Self::Init => "init",
            Self::Bootstrap => "bootstrap",
            Self::Head => "head",
        }
    }
}

/// A deterministic generator for `stream` under `seed` (ChaCha8, stable across platforms).
pub fn rng(seed: u64, stream: Stream) -> ChaCha8Rng {
    ChaCha8Rng::from_seed(derive(seed, stream))
}

/// A deterministic generator for the `index`-th item (an epoch, an image) of `stream`.
pub fn rng_at(seed: u64, stream: Stream, index: u64) -> ChaCha8Rng {
    let mut h = blake3::Hasher::new();
    h.update(&derive(seed, stream));
    h.update(&index.to_le_bytes());
    ChaCha8Rng::from_seed(*h.finalize().as_bytes())
}

/// A 64-bit sub-seed for `stream`, for crates that seed their own generators.
pub fn sub_seed(seed: u64, stream: Stream) -> u64 {
    let d = derive(seed, stream);
    u64::from_le_bytes([d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7]])
}

/// The ChaCha stream of the `init` sub-seed that an autoencoder's decoder draws from: the encoder's
/// init draws from stream 0 of the same seed, so adding the decoder changes none of the encoder's
/// values.
const DECODER_CHACHA_STREAM: u64 = 1;

/// The generator of an autoencoder's decoder init under run `seed`: ChaCha8 seeded with
/// [`sub_seed`]`(seed, `[`Stream::Init`]`)`, on its ChaCha stream 1.
pub fn decoder_rng(seed: u64) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(sub_seed(seed, Stream::Init));
    rng.set_stream(DECODER_CHACHA_STREAM);
    rng
}

/// The seed of a report's paired-bootstrap resampling. A report compares runs of several seeds
/// and has none of its own: it is reproducible, not random.
pub const REPORT_BOOTSTRAP_SEED: u64 = 0;

/// The generator of a report's paired-bootstrap resampling: ChaCha8 seeded with
/// [`REPORT_BOOTSTRAP_SEED`].
pub fn report_bootstrap_rng() -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(REPORT_BOOTSTRAP_SEED)
}

/// The seed of a feature map's t-SNE (its row sample and starting positions) drawn from the
/// features of a run with run seed `seed`: the run seed as it is.
pub fn feature_map_seed(seed: u64) -> u64 {
    seed
}

fn derive(seed: u64, stream: Stream) -> [u8; 32] {
    let mut h = blake3::Hasher::new_derive_key("cxr seed stream v1");
    h.update(&seed.to_le_bytes());
    h.update(stream.name().as_bytes());
    *h.finalize().as_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::Rng;

    #[test]
    fn streams_are_stable_and_independent() {
        let a: u64 = rng(1, Stream::Split).random();
        assert_eq!(a, rng(1, Stream::Split).random::<u64>());
        assert_ne!(a, rng(1, Stream::Sampler).random::<u64>());
        assert_ne!(a, rng(2, Stream::Split).random::<u64>());
        assert_ne!(
            rng_at(1, Stream::Sampler, 0).random::<u64>(),
            rng_at(1, Stream::Sampler, 1).random::<u64>()
        );
        assert_eq!(sub_seed(3, Stream::Init), sub_seed(3, Stream::Init));
    }

    #[test]
    fn the_streams_older_than_the_hash_keep_their_derivation() {
        // What the decoder, the report's bootstrap and its t-SNE drew before seed.rs named them.
        let mut old_decoder = ChaCha8Rng::seed_from_u64(sub_seed(5, Stream::Init));
        old_decoder.set_stream(1);
        assert_eq!(decoder_rng(5).random::<u64>(), old_decoder.random::<u64>());
        assert_ne!(
            decoder_rng(5).random::<u64>(),
            ChaCha8Rng::seed_from_u64(sub_seed(5, Stream::Init)).random::<u64>(),
            "the decoder does not draw the encoder's numbers"
        );
        assert_eq!(
            report_bootstrap_rng().random::<u64>(),
            ChaCha8Rng::seed_from_u64(0).random::<u64>()
        );
        assert_eq!(feature_map_seed(7), 7);
    }
}
