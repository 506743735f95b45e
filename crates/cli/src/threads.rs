//! How many CPU threads training uses. candle's kernels and its GEMM read `RAYON_NUM_THREADS`
//! (and `CANDLE_NUM_THREADS`) whenever they split work, and data decoding uses rayon's global
//! pool, so one call before any work sets all three. Without it every core is used.

/// Sets the thread count for candle, its GEMM and rayon. Call once, before training starts.
pub fn set_threads(threads: usize) -> Result<(), String> {
    if threads == 0 {
        return Err("--threads must be at least 1".into());
    }
    // Read by candle on every parallel op; set before any worker thread exists.
    std::env::set_var("RAYON_NUM_THREADS", threads.to_string());
    std::env::set_var("CANDLE_NUM_THREADS", threads.to_string());
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build_global()
        .map_err(|e| format!("cannot size the thread pool: {e}"))
}
