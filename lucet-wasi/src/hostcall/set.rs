//! [`HostcallSet`]: host functions attached together.

use super::Hostcall;
use crate::Error;
use std::any::Any;

/// Host functions to attach together, to a [`Module`](crate::Module) or a builder, and
/// to generate the guest's import declarations from.
///
/// [`hostcalls!`](crate::hostcalls) builds one and refuses, at compile time, two
/// functions with the same import name.
///
/// ```
/// use lucet_wasi::{hostcall, hostcalls};
/// #[hostcall(module = "kv")]
/// fn put(key: &str, value: &[u8]) -> u32 { (key.len() + value.len()) as u32 }
/// #[hostcall]
/// fn log(level: u32, msg: &str) { println!("{level}: {msg}") }
/// let set = hostcalls![put, log];
/// assert!(set.c_header().contains("uint32_t kv_put(const char *key, size_t key_len, const uint8_t *value, size_t value_len);"));
/// assert!(set.rust_externs().contains("pub fn log(level: u32, msg: *const u8, msg_len: usize);"));
/// ```
#[derive(Clone, Default)]
pub struct HostcallSet {
    calls: Vec<Hostcall>,
}

impl HostcallSet {
    /// An empty set.
    pub fn new() -> HostcallSet {
        HostcallSet::default()
    }

    /// Adds a host function (duplicates are refused when the set is attached).
    pub fn with(mut self, hostcall: impl Into<Hostcall>) -> HostcallSet {
        self.calls.push(hostcall.into());
        self
    }

    /// Adds a host function (duplicates are refused when the set is attached).
    pub fn push(&mut self, hostcall: impl Into<Hostcall>) {
        self.calls.push(hostcall.into());
    }

    /// The host functions, in the order added.
    pub fn iter(&self) -> impl Iterator<Item = &Hostcall> {
        self.calls.iter()
    }

    /// How many host functions the set holds.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Refuses two functions with the same import.
    pub(crate) fn check_unique(&self) -> Result<(), Error> {
        for (i, a) in self.calls.iter().enumerate() {
            if let Some(b) = self.calls[..i]
                .iter()
                .find(|b| (b.module(), b.name()) == (a.module(), a.name()))
            {
                return Err(Error::DuplicateHostcall {
                    module: b.module().to_string(),
                    name: b.name().to_string(),
                    functions: (
                        b.signature().rust.to_string(),
                        a.signature().rust.to_string(),
                    ),
                });
            }
        }
        Ok(())
    }

    /// Refuses embedder data that a function of the set cannot take.
    pub(crate) fn check_data(
        &self,
        data: &(dyn Any + Send),
        name: &'static str,
    ) -> Result<(), Error> {
        self.calls.iter().try_for_each(|h| h.check_data(data, name))
    }
}

impl<H: Into<Hostcall>> FromIterator<H> for HostcallSet {
    fn from_iter<I: IntoIterator<Item = H>>(iter: I) -> Self {
        HostcallSet {
            calls: iter.into_iter().map(Into::into).collect(),
        }
    }
}
