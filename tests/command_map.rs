//! command_map
