//! owner_failure
