//! The pure planner: `plan(desired, actual) -> Plan`.
