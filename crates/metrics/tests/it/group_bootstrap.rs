//! The bootstrap resamples patients: every replicate is a union of whole groups, its size
//! follows the groups drawn, and a seeded RNG gives the same interval twice.

use std::cell::RefCell;

use cxr_metrics::{group_bootstrap, paired_group_bootstrap, GroupResampler, Interval};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::TestResult;

/// Ten films of two patients, interleaved and with arbitrary ids: patient 7 has one film
/// (film 4), patient 3 has nine.
const GROUPS: [u32; 10] = [3, 3, 3, 3, 7, 3, 3, 3, 3, 3];

/// Checks that `films` is a union of whole groups of [`GROUPS`] and returns how many groups.
fn whole_groups(films: &[usize]) -> usize {
    let mut count = [0usize; 10];
    for &f in films {
        count[f] += 1;
    }
    let lone = count[4];
    let big: Vec<usize> = (0..10).filter(|&f| f != 4).map(|f| count[f]).collect();
    assert!(
        big.iter().all(|&c| c == big[0]),
        "patient 3's films drawn unevenly: {count:?}"
    );
    lone + big[0]
}

#[test]
fn draws_are_unions_of_whole_patients() -> TestResult {
    let resampler = GroupResampler::new(&GROUPS).ok_or("resampler")?;
    assert_eq!((resampler.groups(), resampler.films()), (2, 10));
    let mut rng = ChaCha8Rng::seed_from_u64(26);
    let mut sizes = std::collections::BTreeMap::new();
    for _ in 0..400 {
        let films = resampler.draw(&mut rng);
        assert_eq!(
            whole_groups(&films),
            2,
            "two patients per replicate: {films:?}"
        );
        *sizes.entry(films.len()).or_insert(0) += 1;
    }
    // Two draws of patients sized 1 and 9: 2 films (1/4), 10 (1/2) or 18 (1/4). Resampling
    // films would give 10 films every time.
    let seen: Vec<usize> = sizes.keys().copied().collect();
    assert_eq!(seen, [2, 10, 18], "{sizes:?}");
    for (size, expected) in [(2, 100.0), (10, 200.0), (18, 100.0)] {
        // Binomial sd at most 10 of 400: 5 sd either way.
        let got = f64::from(sizes[&size]);
        assert!(
            (got - expected).abs() < 50.0,
            "{size} films: {got} of 400 ({sizes:?})"
        );
    }
    assert!(GroupResampler::new(&[]).is_none());
    Ok(())
}

#[test]
fn the_statistic_sees_the_resamplers_draws() -> TestResult {
    // group_bootstrap hands the statistic exactly the draws of a resampler with the same seed.
    let seen = RefCell::new(Vec::new());
    let statistic = |films: &[usize]| {
        seen.borrow_mut().push(films.to_vec());
        Some(films.len() as f64)
    };
    group_bootstrap(&GROUPS, 50, &mut ChaCha8Rng::seed_from_u64(5), statistic)
        .ok_or("bootstrap")?;
    let seen = seen.into_inner();
    // The last call is the estimate on all films, each once.
    assert_eq!(
        seen.last().map(Vec::as_slice),
        Some(&(0..10).collect::<Vec<_>>()[..])
    );
    let resampler = GroupResampler::new(&GROUPS).ok_or("resampler")?;
    let mut rng = ChaCha8Rng::seed_from_u64(5);
    for replicate in &seen[..50] {
        assert_eq!(*replicate, resampler.draw(&mut rng));
    }
    Ok(())
}

#[test]
fn replicate_values_are_those_of_whole_patients() -> TestResult {
    // Film values: patient 7's film scores 0, patient 3's films 1. The mean over a replicate
    // can only be 0 (7 twice), 9/10 (one each) or 1 (3 twice); resampling films would also
    // give 0.8, 0.7 and so on.
    let value = |f: usize| if f == 4 { 0.0 } else { 1.0 };
    let seen = RefCell::new(Vec::new());
    let mean = |films: &[usize]| {
        let m = films.iter().map(|&f| value(f)).sum::<f64>() / films.len() as f64;
        seen.borrow_mut().push(m);
        Some(m)
    };
    let ci = group_bootstrap(&GROUPS, 1000, &mut ChaCha8Rng::seed_from_u64(1), mean)
        .ok_or("bootstrap")?;
    assert!(seen
        .borrow()
        .iter()
        .all(|&m| m == 0.0 || m == 0.9 || m == 1.0));
    assert_eq!(ci.estimate, Some(0.9));
    // Each extreme holds about a quarter of the replicates, more than 2.5%.
    assert_eq!(
        ci.interval,
        Interval {
            low: 0.0,
            high: 1.0
        }
    );
    assert_eq!((ci.replicates, ci.skipped), (1000, 0));
    Ok(())
}

#[test]
fn undefined_replicates_are_skipped_and_counted() -> TestResult {
    // Undefined unless patient 7 was drawn (1/4 of replicates miss it), alternately as None
    // and as NaN.
    let flip = std::cell::Cell::new(false);
    let needs_film_4 = |films: &[usize]| {
        if films.contains(&4) {
            Some(films.len() as f64)
        } else {
            flip.set(!flip.get());
            flip.get().then_some(f64::NAN)
        }
    };
    let ci = group_bootstrap(
        &GROUPS,
        1000,
        &mut ChaCha8Rng::seed_from_u64(2),
        needs_film_4,
    )
    .ok_or("bootstrap")?;
    assert_eq!(ci.replicates + ci.skipped, 1000);
    // 250 expected, binomial sd 13.7.
    assert!(ci.skipped > 180 && ci.skipped < 320, "{ci:?}");
    assert_eq!(
        ci.interval,
        Interval {
            low: 2.0,
            high: 10.0
        }
    );
    // Never defined: None. No films or no resamples: None.
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    assert!(group_bootstrap(&GROUPS, 100, &mut rng, |_| None).is_none());
    assert!(group_bootstrap(&[], 100, &mut rng, |_| Some(1.0)).is_none());
    assert!(group_bootstrap(&GROUPS, 0, &mut rng, |_| Some(1.0)).is_none());
    Ok(())
}

#[test]
fn a_seeded_rng_gives_the_same_interval() -> TestResult {
    let groups: Vec<u32> = (0..60).map(|i| i / 4 + (i % 3)).collect();
    let statistic = |films: &[usize]| {
        Some(films.iter().map(|&f| (f * 37 % 11) as f64).sum::<f64>() / films.len() as f64)
    };
    let run = |seed| {
        group_bootstrap(
            &groups,
            300,
            &mut ChaCha8Rng::seed_from_u64(seed),
            statistic,
        )
    };
    let first = run(9).ok_or("bootstrap")?;
    assert_eq!(Some(first), run(9));
    assert!(first.interval.low < first.interval.high, "{first:?}");
    Ok(())
}

#[test]
fn paired_bootstrap_takes_differences_on_the_same_replicate() -> TestResult {
    let groups: Vec<u32> = (0..40).map(|i| i / 3).collect();
    let a =
        |films: &[usize]| Some(films.iter().map(|&f| f as f64).sum::<f64>() / films.len() as f64);
    // `b` is `a` shifted by 0.25: on the same replicate the difference is exactly 0.25, while
    // `a` alone varies from replicate to replicate.
    let b = |films: &[usize]| a(films).map(|v| v - 0.25);
    let d = paired_group_bootstrap(&groups, 500, &mut ChaCha8Rng::seed_from_u64(4), a, b)
        .ok_or("paired")?;
    assert_eq!(d.estimate, Some(0.25));
    assert_eq!(
        d.interval,
        Interval {
            low: 0.25,
            high: 0.25
        }
    );
    let alone = group_bootstrap(&groups, 500, &mut ChaCha8Rng::seed_from_u64(4), a).ok_or("a")?;
    assert!(alone.interval.high - alone.interval.low > 1.0, "{alone:?}");
    // A replicate where either side is undefined is skipped.
    let c = |films: &[usize]| (!films.contains(&0)).then_some(1.0);
    let d = paired_group_bootstrap(&groups, 500, &mut ChaCha8Rng::seed_from_u64(4), a, c)
        .ok_or("paired")?;
    assert!(d.skipped > 0 && d.replicates + d.skipped == 500, "{d:?}");
    assert_eq!(d.estimate, None);
    Ok(())
}
