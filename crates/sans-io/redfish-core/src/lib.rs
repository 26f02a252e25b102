//! The Redfish service's core, without I/O: what rbmc-redfishd decides
//! about a request before and after it reads or changes the BMC.
//!
//! - [`sessions`]: the SessionService's sessions, their tokens and idle
//!   timeout, on the caller's clock.
//! - [`events`]: the registry messages events carry, the `Event` a
//!   subscriber receives, and an SSE stream's `$filter`.
//! - [`error`]: refusals and failures as Base registry messages with
//!   their HTTP status.
//! - [`privilege`]: Redfish roles from IPMI privilege levels, and the
//!   privileges of DMTF's base PrivilegeRegistry that each role holds.
//! - [`query`]: `$expand`, `$select`, `$top` and `$skip`, parsed and
//!   applied to a response.
//! - [`registries`]: DMTF's message registries the service publishes.
//!
//! Nothing here reads a clock, draws random numbers or touches the
//! network: the daemon passes `now` and random bytes in.

pub mod error;
pub mod events;
pub mod privilege;
pub mod query;
pub mod registries;
pub mod sessions;

pub use error::{ApiError, Message};
pub use privilege::{Privilege, Role};
pub use query::Query;
pub use sessions::{Session, SessionError, SessionTable};
