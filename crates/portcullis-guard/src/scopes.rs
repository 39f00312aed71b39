//! What scopes a route requires.

/// A route's scope requirement: all of a set, any of a set, or none.
///
/// ```
/// use portcullis_guard::Scopes;
/// let granted = ["courses:read", "profile"];
/// assert!(Scopes::all(["courses:read"]).satisfied_by(granted.iter().copied()));
/// assert!(!Scopes::all(["courses:read", "courses:write"]).satisfied_by(granted.iter().copied()));
/// assert!(Scopes::any(["admin", "profile"]).satisfied_by(granted.iter().copied()));
/// assert!(Scopes::none().satisfied_by(std::iter::empty()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scopes {
    required: Vec<String>,
    any: bool,
}

impl Scopes {
    /// No scope is required: any valid token passes.
    pub fn none() -> Self {
        Scopes::default()
    }

    /// Every one of `scopes` is required.
    pub fn all<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Scopes {
            required: scopes.into_iter().map(Into::into).collect(),
            any: false,
        }
    }

    /// At least one of `scopes` is required.
    pub fn any<S: Into<String>>(scopes: impl IntoIterator<Item = S>) -> Self {
        Scopes {
            required: scopes.into_iter().map(Into::into).collect(),
            any: true,
        }
    }

    /// Whether `granted` satisfies the requirement.
    pub fn satisfied_by<'a>(&self, granted: impl IntoIterator<Item = &'a str> + Clone) -> bool {
        let has = |needed: &String| granted.clone().into_iter().any(|g| g == needed);
        if self.required.is_empty() {
            true
        } else if self.any {
            self.required.iter().any(has)
        } else {
            self.required.iter().all(has)
        }
    }

    /// The scopes to name in an `insufficient_scope` error.
    ///
    /// ```
    /// assert_eq!(portcullis_guard::Scopes::all(["a", "b"]).to_string(), "a b");
    /// ```
    pub fn as_slice(&self) -> &[String] {
        &self.required
    }
}

impl std::fmt::Display for Scopes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.required.join(" "))
    }
}
