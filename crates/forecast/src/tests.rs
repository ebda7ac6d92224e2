use super::*;

const STEP: i64 = 30_000;
const DAY: i64 = 86_400_000;

fn cfg(model: Model, season_ms: Option<i64>, history_ms: i64) -> Config {
    Config {
        model,
        step_ms: STEP,
        season_ms,
        history_ms,
        lead_ms: 75_000,
        quantile: 0.9,
    }
}

/// A daily wave with deterministic noise, in requests per second.
fn daily(t_ms: i64) -> f64 {
    let phase = (t_ms % DAY) as f64 / DAY as f64 * std::f64::consts::TAU;
    let noise = (((t_ms / STEP) * 7919) % 13) as f64 - 6.0;
    200.0 + 120.0 * phase.sin() + noise
}

fn run(f: &mut Forecaster, from: i64, to: i64, g: impl Fn(i64) -> Option<f64>) {
    let mut t = from;
    while t < to {
        f.observe(t, g(t));
        t += STEP;
    }
}

#[test]
fn config_errors_name_the_values() {
    let e = Forecaster::new(cfg(Model::Auto, Some(DAY), DAY / 2)).unwrap_err();
    assert!(e.to_string().contains("12h"), "{e}");
    let e = Forecaster::new(Config {
        step_ms: 0,
        ..cfg(Model::Trend, None, DAY)
    })
    .unwrap_err();
    assert_eq!(e, Error::Step(0));
    let e = Forecaster::new(cfg(Model::SeasonalNaive, None, DAY)).unwrap_err();
    assert_eq!(e, Error::NoSeason(Model::SeasonalNaive));
}

#[test]
fn no_data_then_too_little_history() {
    let mut f = Forecaster::new(cfg(Model::HoltWinters, Some(DAY), 3 * DAY)).unwrap();
    assert_eq!(f.forecast(0), Err(Unavailable::NoData));
    run(&mut f, 0, 3_600_000, |t| Some(daily(t)));
    let e = f.forecast(3_600_000).unwrap_err();
    assert!(
        matches!(e, Unavailable::TooLittleHistory { model: Model::HoltWinters, need_ms, .. } if need_ms == DAY),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "too little history for holt-winters: 1h of the 1d it needs"
    );
}

#[test]
fn auto_without_season_history_serves_the_trend_model() {
    let mut f = Forecaster::new(cfg(Model::Auto, Some(DAY), 3 * DAY)).unwrap();
    run(&mut f, 0, 6 * 3_600_000, |t| Some(daily(t)));
    let p = f.forecast(6 * 3_600_000).unwrap();
    assert_eq!(p.model, Model::Trend);
    assert!(p.upper >= p.point);
}

#[test]
fn seasonal_models_follow_a_daily_wave_and_the_band_covers_about_ninety_percent() {
    for model in [Model::HoltWinters, Model::SeasonalNaive, Model::Auto] {
        let mut f = Forecaster::new(cfg(model, Some(DAY), 3 * DAY)).unwrap();
        run(&mut f, 0, 2 * DAY, |t| Some(daily(t)));
        let (mut covered, mut total, mut abs_err) = (0, 0, 0.0);
        let mut t = 2 * DAY;
        while t < 3 * DAY {
            f.observe(t, Some(daily(t)));
            let p = f.forecast(t).unwrap_or_else(|e| panic!("{model}: {e}"));
            // What actually comes over the next 75 s (slots t+30s .. t+90s).
            let real = (1..=3)
                .map(|i| daily(t + i * STEP))
                .fold(f64::MIN, f64::max);
            total += 1;
            if p.upper >= real {
                covered += 1;
            }
            abs_err += (p.point - real).abs();
            t += STEP;
        }
        let coverage = covered as f64 / total as f64;
        let mae = abs_err / total as f64;
        assert!(
            (0.8..=0.99).contains(&coverage),
            "{model}: coverage {coverage}"
        );
        // The noise alone is ±6; a model that followed nothing would be off by ~tens.
        assert!(mae < 10.0, "{model}: mean absolute error {mae}");
    }
}

#[test]
fn a_ramp_is_anticipated_by_the_trend_model() {
    let mut f = Forecaster::new(cfg(Model::Trend, None, DAY)).unwrap();
    let ramp = |t: i64| Some(10.0 + t as f64 / 1000.0);
    run(&mut f, 0, 3_600_000, ramp);
    let now = 3_600_000 - STEP;
    let p = f.forecast(now).unwrap();
    // 75 s ahead the ramp is 75 above now; the served value must be above the current value.
    assert!(p.upper > 10.0 + now as f64 / 1000.0 + 30.0, "{p:?}");
}

#[test]
fn stale_and_gap_reasons() {
    let mut f = Forecaster::new(cfg(Model::Trend, None, DAY)).unwrap();
    run(&mut f, 0, 3_600_000, |t| Some(daily(t)));
    let last = 3_600_000 - STEP;
    assert!(f.forecast(last + STEP).is_ok());
    let e = f.forecast(last + 10 * STEP).unwrap_err();
    assert_eq!(e.to_string(), "the last observation is 5m old");
    // Failed queries: the trend model resets after a few and must re-learn.
    run(&mut f, 3_600_000, 3_600_000 + 10 * STEP, |_| None);
    let e = f.forecast(3_600_000 + 10 * STEP).unwrap_err();
    assert!(matches!(e, Unavailable::TooLittleHistory { .. }), "{e:?}");
}

#[test]
fn seasonal_naive_reports_a_gap_one_season_ago() {
    let mut f = Forecaster::new(cfg(Model::SeasonalNaive, Some(DAY), 3 * DAY)).unwrap();
    // Day 0 has a 2-hour outage from 10:00; day 1 is complete.
    let out = |t: i64| (10 * 3_600_000..12 * 3_600_000).contains(&(t % DAY)) && t < DAY;
    run(&mut f, 0, DAY + 11 * 3_600_000, |t| {
        (!out(t)).then(|| daily(t))
    });
    let e = f.forecast(DAY + 11 * 3_600_000 - STEP).unwrap_err();
    assert_eq!(
        e,
        Unavailable::Gap {
            model: Model::SeasonalNaive
        }
    );
    assert!(e.to_string().contains("gap"));
}

#[test]
fn a_level_shift_falls_back_and_recovers() {
    // Seasonal-naive cannot re-level: after a shift it says so and stays reactive until it tracks again.
    let mut f = Forecaster::new(cfg(Model::SeasonalNaive, Some(DAY), 3 * DAY)).unwrap();
    run(&mut f, 0, 2 * DAY, |t| Some(daily(t)));
    assert!(f.forecast(2 * DAY - STEP).is_ok());
    // From day 2 the traffic is 600 higher.
    let shifted = |t: i64| Some(daily(t) + 600.0);
    let mut saw_shift = None;
    let mut t = 2 * DAY;
    while t < 2 * DAY + 3_600_000 {
        f.observe(t, shifted(t));
        if let Err(e @ Unavailable::LevelShift { .. }) = f.forecast(t) {
            saw_shift.get_or_insert((t, e.to_string()));
        }
        t += STEP;
    }
    let (at, msg) = saw_shift.expect("the shift is detected");
    assert!(at < 2 * DAY + 15 * 60_000, "detected late: {at}");
    assert!(msg.starts_with("level shift at t="), "{msg}");
    assert!(matches!(
        f.forecast(t - STEP),
        Err(Unavailable::LevelShift { .. })
    ));
    // A day later, one season ago is at the new level too: it tracks again.
    run(&mut f, t, 3 * DAY + 3_600_000, shifted);
    let p = f.forecast(3 * DAY + 3_600_000 - STEP).unwrap();
    assert!((p.point - (daily(3 * DAY) + 600.0)).abs() < 60.0, "{p:?}");

    // Holt-Winters re-levels (or its fast variant follows): it serves the new level within the hour.
    let mut f = Forecaster::new(cfg(Model::HoltWinters, Some(DAY), 3 * DAY)).unwrap();
    run(&mut f, 0, 2 * DAY + 3_600_000, |t| {
        if t < 2 * DAY {
            Some(daily(t))
        } else {
            shifted(t)
        }
    });
    let now = 2 * DAY + 3_600_000 - STEP;
    let p = f.forecast(now).unwrap();
    assert!((p.point - (daily(now) + 600.0)).abs() < 60.0, "{p:?}");
}

#[test]
fn memory_is_bounded_by_the_history() {
    let mut f = Forecaster::new(cfg(Model::Auto, Some(DAY), 3 * DAY)).unwrap();
    run(&mut f, 0, 4 * DAY, |t| Some(daily(t)));
    let after_4 = f.memory_bytes();
    run(&mut f, 4 * DAY, 8 * DAY, |t| Some(daily(t)));
    assert_eq!(f.memory_bytes(), after_4);
    // 3 days of 30 s slots as f32, plus one season of state per Holt-Winters variant, plus small change.
    let bound = (3 * DAY / STEP) as usize * 4
        + HOLT_WINTERS_ALPHAS.len() * (DAY / STEP) as usize * 8
        + 4096;
    assert!(after_4 <= bound, "{after_4} > {bound}");
}

#[test]
fn a_gap_longer_than_the_history_starts_over() {
    // Seasonal-naive keeps no state of its own, so only the start-over empties the history: without it the
    // ring would hold two hours of gaps and the answer would be `Gap`.
    const HOUR: i64 = 3_600_000;
    let mut f = Forecaster::new(cfg(Model::SeasonalNaive, Some(HOUR), 2 * HOUR)).unwrap();
    run(&mut f, 0, 2 * HOUR, |t| Some(daily(t)));
    f.observe(10 * HOUR, Some(5.0));
    match f.forecast(10 * HOUR) {
        Err(Unavailable::TooLittleHistory { have_ms, .. }) => assert_eq!(have_ms, STEP),
        other => panic!("{other:?}"),
    }
}

#[test]
fn same_input_same_output() {
    let mk = || {
        let mut f = Forecaster::new(cfg(Model::Auto, Some(DAY), 3 * DAY)).unwrap();
        run(&mut f, 0, 2 * DAY, |t| Some(daily(t)));
        f.forecast(2 * DAY - STEP).unwrap()
    };
    assert_eq!(mk(), mk());
}
