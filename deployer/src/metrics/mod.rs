//! The functions' metrics: the list of names the app emits ([`list`]), and
//! the key numbers `deployer status --metrics` shows, from CloudWatch
//! ([`cloudwatch`]) for a deployed stage or from the local stage's log lines
//! ([`local`]). Both give the same rows: one per listed metric.

pub mod cloudwatch;
pub mod list;
pub mod local;

use serde::Serialize;

use list::MetricDef;

/// One metric's numbers over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeyNumber {
    /// The metric (`FetchStored`).
    pub name: String,
    /// `api` or `worker`.
    pub function: String,
    /// Its group on the dashboard (`Fetch outcomes`).
    pub group: String,
    /// `Count` or `Milliseconds`.
    pub unit: String,
    /// A count's total, or how many durations were recorded.
    pub count: f64,
    /// The mean duration (durations only; none without samples).
    pub average: Option<f64>,
    /// The longest duration (durations only; none without samples).
    pub maximum: Option<f64>,
}

/// What a source found for a metric: total or samples.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Totals {
    /// Sum of every value (a count's total; durations' sum).
    pub sum: f64,
    /// How many values.
    pub samples: f64,
    /// The largest value.
    pub maximum: Option<f64>,
}

impl Totals {
    /// Adds one value.
    pub fn add(&mut self, value: f64) {
        self.sum += value;
        self.samples += 1.0;
        self.maximum = Some(self.maximum.map_or(value, |m| m.max(value)));
    }
}

/// The row of `def` from its totals: a count shows its sum, a duration its samples, mean and max.
pub fn key_number(def: &MetricDef, totals: Totals) -> KeyNumber {
    let (count, average, maximum) = if def.is_duration() {
        let average = (totals.samples > 0.0).then(|| totals.sum / totals.samples);
        (
            totals.samples,
            average,
            totals.maximum.filter(|_| totals.samples > 0.0),
        )
    } else {
        (totals.sum, None, None)
    };
    KeyNumber {
        name: def.name.clone(),
        function: def.function.clone(),
        group: def.group.clone(),
        unit: def.unit.clone(),
        count,
        average,
        maximum,
    }
}
