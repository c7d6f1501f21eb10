//! The service's rules for group fields, checked before any network call.
//!
//! Two kinds of check live here. Those on one value (byte lengths, the GroupId's shape, custom
//! keys and values, number ranges) run while a field is read (`fields.rs`), once per place it is
//! written, so a bad default is reported once and not once per group. Those that combine
//! fields (per-type rules, `protect` with `ensure: absent`) run on each group after the file's
//! defaults are merged in (`merged`); when a value involved came from `defaults`, the message
//! says so and points at the group's line.
//!
//! All lengths are UTF-8 bytes, as the service counts them (one CJK character is 3 bytes).
//! Whether a group exists is unknown here, so "required to create" (`name`, `type`) is the
//! planner's check, not this module's.

use super::Limits;
use super::fields::{Ctx, Fields, Written};
use super::problem::Problem;
use crate::model::{Ensure, GroupType};

/// GroupIds are at most this many bytes.
pub const GROUP_ID_MAX: usize = 48;

/// Custom Community GroupIds start with this; other custom ids must not.
pub const COMMUNITY_PREFIX: &str = "@TGS#_";

/// `s` is at most `max` UTF-8 bytes.
pub fn byte_len(s: &str, max: usize) -> Result<(), String> {
    if s.len() > max {
        Err(format!("{} bytes, at most {max} (UTF-8 bytes)", s.len()))
    } else {
        Ok(())
    }
}

/// The shape rules of a GroupId that hold for every type: not empty, no whitespace at either
/// end (ids are taken as written, so `" eng"` is not `eng`), printable ASCII (0x20–0x7E), at
/// most [`GROUP_ID_MAX`] bytes. The `@TGS#_` rules depend on the type and are in `merged`.
/// Other `@TGS#` ids are allowed: they adopt a group the service created.
pub fn group_id(id: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if id.is_empty() {
        problems.push("must not be empty".to_owned());
    }
    let inner = id.trim();
    if inner != id {
        problems.push("must not start or end with whitespace (ids are taken as written)".into());
    }
    if let Some(c) = inner.chars().find(|c| !(' '..='~').contains(c)) {
        problems.push(format!("must be printable ASCII (0x20-0x7E), not {c:?}"));
    }
    if let Err(message) = byte_len(id, GROUP_ID_MAX) {
        problems.push(message);
    }
    problems
}

/// What `max_members` may be, for messages: the largest per-type cap is Community's.
pub(crate) const MAX_MEMBERS_RANGE: &str =
    "max_members is a whole number from 1 to 100000 (the most any group type allows)";

/// What `create_time` may be, for messages.
pub(crate) const CREATE_TIME_RANGE: &str =
    "create_time is a whole number of Unix seconds from 0 to 9999999999";

/// "N is out of range: RANGE".
pub(crate) fn out_of_range(written: &dyn std::fmt::Display, range: &str) -> String {
    format!("{written} is out of range: {range}")
}

/// `max_members` as written: at least 1 and fits the wire's integer. The per-type cap is in
/// [`merged`].
pub(crate) fn max_members(n: u64) -> Result<u32, String> {
    match u32::try_from(n) {
        Ok(n @ 1..) => Ok(n),
        _ => Err(out_of_range(&n, MAX_MEMBERS_RANGE)),
    }
}

/// `create_time` is Unix seconds; a value past year 2286 is a timestamp in milliseconds.
pub(crate) fn create_time(t: u64) -> Result<u64, String> {
    if t >= 10_000_000_000 {
        Err(format!(
            "{t} looks like milliseconds; create_time is in Unix seconds"
        ))
    } else {
        Ok(t)
    }
}

/// A custom (AppDefinedData) key: 1 to `limits.custom_key` bytes of `A-Z a-z 0-9 _`, not
/// starting with a digit (the console's rule).
pub(crate) fn custom_key(key: &str, limits: &Limits) -> Vec<String> {
    let mut problems = Vec::new();
    if key.is_empty() {
        problems.push("a key must not be empty".to_owned());
    }
    if let Err(message) = byte_len(key, limits.custom_key) {
        problems.push(format!("key is {message}"));
    }
    if let Some(c) = key
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        problems.push(format!("key may hold only A-Z, a-z, 0-9 and _, not {c:?}"));
    }
    if key.starts_with(|c: char| c.is_ascii_digit()) {
        problems.push("key must not start with a digit".to_owned());
    }
    if let Some(configured) = &limits.configured_keys
        && !key.is_empty()
        && !configured.contains(key)
    {
        let listed: Vec<&str> = configured.iter().map(String::as_str).collect();
        let hint = match super::suggest::closest(key, &listed, &[]) {
            Some(best) => format!("; did you mean {best:?}?"),
            None if listed.is_empty() => " (none are configured)".to_owned(),
            None => format!(" ({})", listed.join(", ")),
        };
        problems.push(format!(
            "key {key:?} is not a custom field configured for the app (timctl.yaml custom_fields){hint}: the service refuses it until it is configured in the console"
        ));
    }
    problems
}

/// A custom value: not empty (an empty value deletes the key on the service, so it could never
/// match) and at most `limits.custom_value` bytes. Any character, `\0` included, is allowed.
pub(crate) fn custom_value(value: &str, limits: &Limits) -> Result<(), String> {
    if value.is_empty() {
        return Err(
            "value must not be empty: the service deletes a key sent with an empty \
                    value; leave the key out to delete it"
                .into(),
        );
    }
    byte_len(value, limits.custom_value).map_err(|message| format!("value is {message}"))
}

/// The rules that combine fields of one group, its file's defaults merged in. `id` is `None`
/// when the group has no usable id (already reported): the other rules still apply.
pub(crate) fn merged(
    id: Option<&str>,
    id_line: Option<usize>,
    fields: &Fields,
    ctx: &Ctx<'_>,
    problems: &mut Vec<Problem>,
) {
    let line = |w_line: Option<usize>, from_defaults: bool| {
        if from_defaults { ctx.line } else { w_line }
    };
    if let Some(t) = &fields.group_type {
        let kind = t.value;
        // Built only for a problem: most groups have none, and take their type from defaults.
        let type_note = || note(&[("type", t.from_defaults)]);
        let community_id = id.map(|id| id.starts_with(COMMUNITY_PREFIX));
        if kind == GroupType::Community && community_id == Some(false) {
            problems.push(ctx.problem(
                id_line,
                Some("id"),
                format!(
                    "a Community group's id must start with {COMMUNITY_PREFIX:?}{}",
                    type_note()
                ),
            ));
        }
        if kind != GroupType::Community && community_id == Some(true) {
            problems.push(ctx.problem(
                id_line,
                Some("id"),
                format!(
                    "ids starting with {COMMUNITY_PREFIX:?} are for Community groups, and this \
                     group is {kind}{}",
                    type_note()
                ),
            ));
        }
        if let (Some(m), Some(cap)) = (&fields.max_members, kind.member_cap())
            && m.value > cap
        {
            problems.push(ctx.problem(
                line(m.line, m.from_defaults),
                Some("max_members"),
                format!(
                    "{}, at most {cap} for a {kind} group{}",
                    m.value,
                    note(&[("type", t.from_defaults), ("max_members", m.from_defaults)])
                ),
            ));
        }
        if let (GroupType::AVChatRoom, Some(m)) = (kind, &fields.max_members) {
            problems.push(ctx.problem(
                line(m.line, m.from_defaults),
                Some("max_members"),
                format!(
                    "an AVChatRoom group has no member cap (the service ignores MaxMemberNum); \
                     remove max_members{}",
                    note(&[("type", t.from_defaults), ("max_members", m.from_defaults)])
                ),
            ));
        }
        if let (GroupType::AVChatRoom, Some(c)) = (kind, &fields.create_time) {
            problems.push(ctx.problem(
                line(c.line, c.from_defaults),
                Some("create_time"),
                format!(
                    "an AVChatRoom group is made with create_group, which takes no \
                     create_time{}",
                    note(&[("type", t.from_defaults), ("create_time", c.from_defaults)])
                ),
            ));
        }
    }
    let most = GroupType::ALL.iter().filter_map(|t| t.member_cap()).max();
    if let (None, Some(m), Some(most)) = (&fields.group_type, &fields.max_members, most) {
        // The type is the live one, unknown here; no type allows more than the largest cap.
        if m.value > most {
            problems.push(ctx.problem(
                line(m.line, m.from_defaults),
                Some("max_members"),
                format!(
                    "{}, at most {most} for any group type{}",
                    m.value,
                    note(&[("max_members", m.from_defaults)])
                ),
            ));
        }
    }
    people(fields, ctx, problems);
    if let (
        Some(Written {
            value: Ensure::Absent,
            line: ensure_line,
            from_defaults: ensure_default,
        }),
        Some(Written {
            value: true,
            from_defaults: protect_default,
            ..
        }),
    ) = (&fields.ensure, &fields.protect)
    {
        problems.push(ctx.problem(
            line(*ensure_line, *ensure_default),
            Some("ensure"),
            format!(
                "ensure: absent destroys this group, but protect: true forbids destroying it; \
                 remove one of the two{}",
                note(&[("ensure", *ensure_default), ("protect", *protect_default)])
            ),
        ));
    }
}

/// The rules on `admins`, `members` and their options that involve other fields: an account in
/// both lists, a type that stores no members (AVChatRoom) or has no Admin role (Private/Work),
/// more people than `max_members` (or the type's cap), `members_exclusive` with no `members`.
fn people(fields: &Fields, ctx: &Ctx<'_>, problems: &mut Vec<Problem>) {
    let line = |w_line: Option<usize>, from_defaults: bool| {
        if from_defaults { ctx.line } else { w_line }
    };
    let kind = fields.group_type.as_ref();
    for (key, list) in [("admins", &fields.admins), ("members", &fields.members)] {
        let (Some(list), Some(t)) = (list, kind) else {
            continue;
        };
        let refused = match (t.value, key) {
            (GroupType::AVChatRoom, _) => Some(
                "an AVChatRoom group stores no member list, so it has no members or admins to \
                 manage",
            ),
            (GroupType::Private, "admins") if !list.value.is_empty() => {
                Some("a Private (Work) group has no Admin role")
            }
            _ => None,
        };
        if let Some(why) = refused {
            problems.push(ctx.problem(
                line(list.line, list.from_defaults),
                Some(key),
                format!(
                    "{why}; remove {key}{}",
                    note(&[("type", t.from_defaults), (key, list.from_defaults)])
                ),
            ));
        }
    }
    if let (Some(admins), Some(members)) = (&fields.admins, &fields.members) {
        for (account, at) in &members.value {
            if admins.value.iter().any(|(a, _)| a == account) {
                problems.push(ctx.problem(
                    line(*at, members.from_defaults),
                    Some("members"),
                    format!(
                        "account {account:?} is listed twice, in admins and in members; admins \
                 are members, so list it once, in admins{}",
                        note(&[
                            ("admins", admins.from_defaults),
                            ("members", members.from_defaults)
                        ])
                    ),
                ));
            }
        }
    }
    let mut people: std::collections::BTreeSet<&str> = [&fields.admins, &fields.members]
        .into_iter()
        .flatten()
        .flat_map(|list| list.value.iter().map(|(a, _)| a.as_str()))
        .collect();
    if !people.is_empty()
        && let Some(owner) = &fields.owner
    {
        people.insert(owner.value.as_str());
    }
    let cap = match (&fields.max_members, kind.and_then(|t| t.value.member_cap())) {
        (Some(m), _) => Some(m.value),
        (None, Some(cap)) => Some(cap),
        (None, None) => None,
    };
    if let Some(cap) = cap
        && people.len() > cap as usize
    {
        let what = match (&fields.max_members, kind) {
            (None, Some(t)) => format!("the most a {} group holds", t.value),
            _ => "max_members".to_owned(),
        };
        let (key, list) = match (&fields.members, &fields.admins) {
            (Some(m), _) => ("members", m),
            (None, Some(a)) => ("admins", a),
            (None, None) => unreachable!("people is not empty"),
        };
        problems.push(ctx.problem(
            line(list.line, list.from_defaults),
            Some(key),
            format!(
                "{} people (owner, admins and members), more than {what} ({cap}){}",
                people.len(),
                note(&[(key, list.from_defaults)])
            ),
        ));
    }
    if let Some(Written {
        value: true,
        line: at,
        from_defaults,
    }) = &fields.members_exclusive
        && fields.members.is_none()
    {
        problems.push(ctx.problem(
            line(*at, *from_defaults),
            Some("members_exclusive"),
            format!(
                "members_exclusive: true removes the members not listed in members, but members \
                 is not written; write members (an empty list removes every member but the owner \
                 and admins){}",
                note(&[("members_exclusive", *from_defaults)])
            ),
        ));
    }
}

/// " (type and max_members from defaults)" for the fields that came from defaults, or "".
fn note(fields: &[(&str, bool)]) -> String {
    let from: Vec<&str> = fields.iter().filter(|f| f.1).map(|f| f.0).collect();
    if from.is_empty() {
        String::new()
    } else {
        format!(" ({} from defaults)", from.join(" and "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_lengths_count_utf8_bytes_not_characters() {
        assert_eq!(byte_len("工程部公告频道十个字", 30), Ok(()));
        assert_eq!(
            byte_len("工程部公告频道十一个字", 30),
            Err("33 bytes, at most 30 (UTF-8 bytes)".into())
        );
    }

    #[test]
    fn group_id_shape() {
        assert!(group_id("eng-announce 2").is_empty());
        assert!(group_id("@TGS#2C5SZEAEF").is_empty());
        assert_eq!(group_id(""), ["must not be empty"]);
        assert_eq!(
            group_id("café"),
            ["must be printable ASCII (0x20-0x7E), not 'é'"]
        );
        assert_eq!(
            group_id("tab\there"),
            ["must be printable ASCII (0x20-0x7E), not '\\t'"]
        );
        let ends = "must not start or end with whitespace (ids are taken as written)";
        for id in [" eng", "eng\t", "eng ", "\u{3000}eng", " "] {
            assert_eq!(group_id(id), [ends], "{id:?}");
        }
        assert_eq!(group_id(&"x".repeat(48)), Vec::<String>::new());
        assert_eq!(
            group_id(&"x".repeat(49)),
            ["49 bytes, at most 48 (UTF-8 bytes)"]
        );
    }

    #[test]
    fn custom_keys_follow_the_console_rules() {
        let limits = Limits::default();
        assert!(custom_key("team_2", &limits).is_empty());
        assert_eq!(
            custom_key("2team", &limits),
            ["key must not start with a digit"]
        );
        assert_eq!(
            custom_key("team-name", &limits),
            ["key may hold only A-Z, a-z, 0-9 and _, not '-'"]
        );
        assert_eq!(
            custom_key("abcdefghijklmnopq", &limits),
            ["key is 17 bytes, at most 16 (UTF-8 bytes)"]
        );
        assert_eq!(custom_key("", &limits), ["a key must not be empty"]);
    }

    #[test]
    fn custom_values_may_hold_any_character_but_not_be_empty() {
        let limits = Limits::default();
        assert_eq!(custom_value("a\0b\u{1}", &limits), Ok(()));
        assert!(custom_value("", &limits).is_err());
        assert_eq!(
            custom_value(&"é".repeat(257), &limits),
            Err("value is 514 bytes, at most 512 (UTF-8 bytes)".into())
        );
    }

    #[test]
    fn numbers() {
        let range = "max_members is a whole number from 1 to 100000 (the most any group type \
                     allows)";
        assert_eq!(max_members(0), Err(format!("0 is out of range: {range}")));
        assert_eq!(max_members(6000), Ok(6000));
        assert_eq!(
            max_members(1 << 40),
            Err(format!("1099511627776 is out of range: {range}"))
        );
        assert_eq!(create_time(1448357837), Ok(1448357837));
        assert_eq!(
            create_time(1448357837000),
            Err("1448357837000 looks like milliseconds; create_time is in Unix seconds".into())
        );
    }
}
