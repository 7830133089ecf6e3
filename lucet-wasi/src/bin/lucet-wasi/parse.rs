//! The CLI's flag parsers: each turns one flag's text into its value, or a one-line
//! reason clap shows with the flag's name.

use lucet_wasi::{Bytes, Error, TraceFilter, WasmFeatures};
use std::path::PathBuf;
use std::time::Duration;

pub(crate) fn parse_wasm(s: &str) -> Result<WasmFeatures, String> {
    WasmFeatures::default().switch(s).map_err(|e| e.to_string())
}

/// A size flag: parsed, and a multiple of 4 KiB (rules across flags are checked later).
pub(crate) fn parse_limit(s: &str) -> Result<Bytes, String> {
    let size: Bytes = s.parse().map_err(|e: Error| e.to_string())?;
    if !size.0.is_multiple_of(4096) {
        return Err(format!("size {size}: not a multiple of 4 KiB"));
    }
    Ok(size)
}

/// `PATH`, `PATH:ro`, `GUEST:HOST` or `GUEST:HOST:ro` (`:rw` is the default, and may be
/// said) → (guest, host, read-only). A bare path with a mode maps the path to itself; the
/// host part of `GUEST:HOST` may itself contain `:`.
pub(crate) fn parse_dir(s: &str) -> Result<(String, PathBuf, bool), String> {
    let (spec, readonly) = match s.rsplit_once(':') {
        Some((rest, "ro")) if !rest.is_empty() => (rest, true),
        Some((rest, "rw")) if !rest.is_empty() => (rest, false),
        _ => (s, false),
    };
    match spec.split_once(':') {
        None if !spec.is_empty() => Ok((spec.to_string(), PathBuf::from(spec), readonly)),
        Some((guest, host)) if !guest.is_empty() && !host.is_empty() => {
            Ok((guest.to_string(), PathBuf::from(host), readonly))
        }
        _ => Err("expected PATH, PATH:ro, GUEST:HOST or GUEST:HOST:ro, with no part empty".into()),
    }
}

/// A trace filter naming WASI functions only (the CLI has no host functions).
pub(crate) fn parse_trace_filter(s: &str) -> Result<TraceFilter, String> {
    let filter: TraceFilter = s.parse().map_err(|e: Error| e.to_string())?;
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if !TraceFilter::wasi_functions().any(|f| f == name) {
            return Err(format!("`{name}` is not a wasi_snapshot_preview1 function"));
        }
    }
    Ok(filter)
}

pub(crate) fn parse_env(s: &str) -> Result<(String, String), String> {
    match s.split_once('=') {
        Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
        _ => Err("expected KEY=VALUE with a non-empty KEY".into()),
    }
}

pub(crate) fn parse_duration(s: &str) -> Result<Duration, String> {
    let d =
        humantime::parse_duration(s).map_err(|e| format!("{e} (expected e.g. `1s`, `500ms`)"))?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dir_specs() {
        let dir = |s: &str| parse_dir(s).map(|(g, h, ro)| (g, h.display().to_string(), ro));
        assert_eq!(dir("data"), Ok(("data".into(), "data".into(), false)));
        assert_eq!(
            dir("/sandbox:/srv/data"),
            Ok(("/sandbox".into(), "/srv/data".into(), false))
        );
        assert_eq!(
            dir("/sandbox:/srv/data:ro"),
            Ok(("/sandbox".into(), "/srv/data".into(), true))
        );
        // The host part may contain ':'; a bare PATH is never read-only.
        assert_eq!(dir("/g:/a:b"), Ok(("/g".into(), "/a:b".into(), false)));
        assert_eq!(dir("/g:/a:b:ro"), Ok(("/g".into(), "/a:b".into(), true)));
        // A bare path with a mode is that path, read-only or not; before, `x:ro` was the
        // guest path `x` mapped read-write to a host directory named `ro`.
        assert_eq!(dir("x:ro"), Ok(("x".into(), "x".into(), true)));
        assert_eq!(
            dir("/srv/data:ro"),
            Ok(("/srv/data".into(), "/srv/data".into(), true))
        );
        assert_eq!(
            dir("/srv/data:rw"),
            Ok(("/srv/data".into(), "/srv/data".into(), false))
        );
        assert_eq!(
            dir("/g:/srv/data:rw"),
            Ok(("/g".into(), "/srv/data".into(), false))
        );
        for bad in ["", ":/host", "/guest:", ":", ":ro", "ro:", "/g::ro"] {
            assert!(dir(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn limits_envs_and_durations() {
        assert_eq!(parse_limit("2 GiB"), Ok(Bytes(2 << 30)));
        assert_eq!(
            parse_limit("3000"),
            Err("size 3000 bytes: not a multiple of 4 KiB".into())
        );
        assert!(parse_limit("lots").is_err());
        assert_eq!(parse_env("K=a=b"), Ok(("K".into(), "a=b".into())));
        assert_eq!(parse_env("K="), Ok(("K".into(), String::new())));
        assert!(parse_env("=v").is_err());
        assert!(parse_env("novalue").is_err());
        assert_eq!(parse_duration("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("soon").is_err());
    }
}
