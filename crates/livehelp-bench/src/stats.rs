//! Latency samples and their percentiles. Samples are kept whole (a run has at most a few
//! million), sorted once when summarised: exact percentiles, no histogram error.

use std::time::Duration;

use serde::Serialize;

/// Latencies in nanoseconds.
#[derive(Debug, Default, Clone)]
pub struct Samples {
    values: Vec<u64>,
}

/// p50 / p90 / p99 / p99.9 / max of a set of samples, in microseconds.
#[derive(Debug, Default, Clone, Copy, Serialize)]
pub struct Summary {
    /// How many samples.
    pub count: usize,
    /// Median.
    pub p50_us: f64,
    /// 90th percentile.
    pub p90_us: f64,
    /// 99th percentile.
    pub p99_us: f64,
    /// 99.9th percentile.
    pub p999_us: f64,
    /// Largest.
    pub max_us: f64,
}

impl Samples {
    /// Adds one latency.
    pub fn push(&mut self, latency: Duration) {
        self.values
            .push(u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX));
    }

    /// Adds every sample of `other`.
    pub fn extend(&mut self, other: &Samples) {
        self.values.extend_from_slice(&other.values);
    }

    /// The percentiles (all zero when empty).
    pub fn summary(&self) -> Summary {
        let mut sorted = self.values.clone();
        sorted.sort_unstable();
        let at = |fraction: f64| -> f64 {
            if sorted.is_empty() {
                return 0.0;
            }
            let index = ((sorted.len() as f64 * fraction).ceil() as usize).clamp(1, sorted.len());
            sorted[index - 1] as f64 / 1_000.0
        };
        Summary {
            count: sorted.len(),
            p50_us: at(0.50),
            p90_us: at(0.90),
            p99_us: at(0.99),
            p999_us: at(0.999),
            max_us: sorted.last().map_or(0.0, |max| *max as f64 / 1_000.0),
        }
    }
}

/// The median of some values (the mean of the middle two for an even count); 0 if none.
pub fn median(values: &[f64]) -> f64 {
    let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if sorted.is_empty() {
        return 0.0;
    }
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    if sorted.len() % 2 == 1 {
        sorted[middle]
    } else {
        (sorted[middle - 1] + sorted[middle]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_exact() {
        let mut samples = Samples::default();
        for micros in 1..=1000 {
            samples.push(Duration::from_micros(micros));
        }
        let summary = samples.summary();
        assert_eq!(summary.count, 1000);
        assert_eq!(summary.p50_us, 500.0);
        assert_eq!(summary.p99_us, 990.0);
        assert_eq!(summary.p999_us, 999.0);
        assert_eq!(summary.max_us, 1000.0);
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
    }
}
