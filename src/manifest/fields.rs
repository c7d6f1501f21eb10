//! Reading the fields of one group entry, or of a `defaults` block, out of a YAML mapping.
//!
//! Fields are read one by one from the document's [`tree`](super::tree) rather than
//! deserialized into a struct, so that a wrong type in one field (`max_members: lots`) is one
//! problem among the others instead of the end of the file. Each field keeps the line of its
//! key, for the checks that run later on the merged group (`validate.rs`).
//!
//! A key written with no value (`name:`, YAML null) is a type error like any other: "omitted"
//! is spelled by leaving the key out.

use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

use serde_yaml::Value;

use super::Limits;
use super::nodes::big_integer;
use super::problem::Problem;
use super::scan::HONOURED_TAGS;
use super::suggest::{TYPE_ALIASES, unknown_key, unknown_value};
use super::tree::{Collection, Item, Val};
use super::validate;
use super::written::SourceText;
use crate::model::{ApplyJoin, CompactString, Custom, Ensure, GroupId, GroupType};

/// The keys of a group entry, in the order the docs list them.
pub(crate) const GROUP_KEYS: &[&str] = &[
    "id",
    "type",
    "name",
    "owner",
    "introduction",
    "notification",
    "face_url",
    "max_members",
    "apply_join",
    "mute_all",
    "custom",
    "create_time",
    "ensure",
    "protect",
    "admins",
    "members",
    "members_exclusive",
    "members_silent",
];

/// The keys of a `defaults` block: those of a group but `id`.
pub(crate) fn default_keys() -> Vec<&'static str> {
    GROUP_KEYS.iter().copied().filter(|k| *k != "id").collect()
}

/// A field's value with where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Written<T> {
    pub value: T,
    pub line: Option<usize>,
    /// Taken from the file's `defaults` rather than written in the group.
    pub from_defaults: bool,
}

/// Accounts as written in `admins` or `members`, each with the line of its item where the
/// parser gives one. Kept as a list, not a set, so that validation can point at a repeat.
pub(crate) type Accounts = Vec<(CompactString, Option<usize>)>;

/// The fields of a group entry or a `defaults` block, as written; `None` = not written.
#[derive(Clone, Debug, Default)]
pub(crate) struct Fields {
    pub group_type: Option<Written<GroupType>>,
    pub name: Option<Written<CompactString>>,
    pub owner: Option<Written<CompactString>>,
    pub introduction: Option<Written<CompactString>>,
    pub notification: Option<Written<CompactString>>,
    pub face_url: Option<Written<CompactString>>,
    pub max_members: Option<Written<u32>>,
    pub apply_join: Option<Written<ApplyJoin>>,
    pub mute_all: Option<Written<bool>>,
    pub custom: Option<Written<Custom>>,
    pub create_time: Option<Written<u64>>,
    pub ensure: Option<Written<Ensure>>,
    pub protect: Option<Written<bool>>,
    pub admins: Option<Written<Accounts>>,
    pub members: Option<Written<Accounts>>,
    pub members_exclusive: Option<Written<bool>>,
    pub members_silent: Option<Written<bool>>,
}

impl Fields {
    /// This group's fields over the file's defaults: a field the group writes wins whole
    /// (`custom` included: the group's map replaces the default map, it is not merged).
    pub fn over(self, defaults: &Fields) -> Fields {
        fn pick<T: Clone>(
            own: Option<Written<T>>,
            default: &Option<Written<T>>,
        ) -> Option<Written<T>> {
            own.or_else(|| {
                default.clone().map(|w| Written {
                    from_defaults: true,
                    ..w
                })
            })
        }
        Fields {
            group_type: pick(self.group_type, &defaults.group_type),
            name: pick(self.name, &defaults.name),
            owner: pick(self.owner, &defaults.owner),
            introduction: pick(self.introduction, &defaults.introduction),
            notification: pick(self.notification, &defaults.notification),
            face_url: pick(self.face_url, &defaults.face_url),
            max_members: pick(self.max_members, &defaults.max_members),
            apply_join: pick(self.apply_join, &defaults.apply_join),
            mute_all: pick(self.mute_all, &defaults.mute_all),
            custom: pick(self.custom, &defaults.custom),
            create_time: pick(self.create_time, &defaults.create_time),
            ensure: pick(self.ensure, &defaults.ensure),
            protect: pick(self.protect, &defaults.protect),
            admins: pick(self.admins, &defaults.admins),
            members: pick(self.members, &defaults.members),
            members_exclusive: pick(self.members_exclusive, &defaults.members_exclusive),
            members_silent: pick(self.members_silent, &defaults.members_silent),
        }
    }
}

/// Where problems found while reading go: the file, the group (when its id is usable), the
/// prefix of field paths outside a group (`defaults.`, `groups[2].`) and the line to fall back
/// on when a key's own line is unknown.
#[derive(Clone, Debug)]
pub(crate) struct Ctx<'a> {
    pub file: &'a Arc<Path>,
    /// The file's text, to quote a value as written.
    pub source: &'a SourceText<'a>,
    pub group: Option<GroupId>,
    /// Mostly a word known in advance (`custom.` in a group), so not made anew for each.
    pub prefix: Cow<'static, str>,
    pub line: Option<usize>,
}

impl Ctx<'_> {
    /// The prefix of `field` inside this one's.
    pub fn within(&self, field: &'static str) -> Cow<'static, str> {
        if self.prefix.is_empty() {
            Cow::Borrowed(field)
        } else {
            Cow::Owned(format!("{}{field}", self.prefix))
        }
    }

    /// A problem about `field` (relative to the prefix), or about the node itself.
    pub fn problem(
        &self,
        line: Option<usize>,
        field: Option<&str>,
        message: impl Into<String>,
    ) -> Problem {
        let field = match field {
            Some(f) => Some(format!("{}{f}", self.prefix)),
            None => Some(self.prefix.trim_end_matches('.').to_owned()).filter(|p| !p.is_empty()),
        };
        Problem {
            file: self.file.to_path_buf(),
            line: line.or(self.line),
            group: self.group.clone(),
            field,
            message: message.into(),
        }
    }
}

/// Which block is being read: a group entry (whose `id` the caller reads) or `defaults`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Block {
    Group,
    Defaults,
}

/// Reads every field of `map`, reporting unknown keys, type errors and the checks that need no
/// other field (lengths, custom keys, enum values).
pub(crate) fn read_fields(
    map: &[(Val<'_>, Item<'_>)],
    ctx: &Ctx<'_>,
    block: Block,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> Fields {
    let mut fields = Fields::default();
    for (key, item) in map {
        let Some(key) = key.as_str() else {
            problems.push(ctx.problem(item.line, None, not_a_key(key)));
            continue;
        };
        let value = &item.value;
        let line = item.line.or(ctx.line);
        let mut report = |message: String| problems.push(ctx.problem(line, Some(key), message));
        let text = |max, non_empty| {
            text_as_written(value, max, non_empty, || {
                ctx.source.scalar(line, Some(key), value)
            })
        };
        match key {
            "id" if block == Block::Group => {}
            "id" => report("a group's id cannot be a default; each group declares its own".into()),
            "type" => {
                let parsed =
                    enum_value(value, &GroupType::ALL.map(GroupType::as_str), TYPE_ALIASES)
                        .map(|s| GroupType::parse(s).expect("one of GroupType::ALL"));
                fields.group_type = keep(parsed, line, &mut report);
            }
            "name" => fields.name = keep(text(Some(limits.name), true), line, &mut report),
            "owner" => fields.owner = keep(text(None, true), line, &mut report),
            "introduction" => {
                let parsed = text(Some(limits.introduction), false);
                fields.introduction = keep(parsed, line, &mut report);
            }
            "notification" => {
                let parsed = text(Some(limits.notification), false);
                fields.notification = keep(parsed, line, &mut report);
            }
            "face_url" => {
                let parsed = text(Some(limits.face_url), false);
                fields.face_url = keep(parsed, line, &mut report);
            }
            "max_members" => {
                let parsed =
                    whole(value, validate::MAX_MEMBERS_RANGE).and_then(validate::max_members);
                fields.max_members = keep(parsed, line, &mut report);
            }
            "apply_join" => {
                let parsed = enum_value(value, &ApplyJoin::ALL.map(ApplyJoin::as_str), &[])
                    .map(|s| ApplyJoin::parse(s).expect("one of ApplyJoin::ALL"));
                fields.apply_join = keep(parsed, line, &mut report);
            }
            "mute_all" => fields.mute_all = keep(boolean(value), line, &mut report),
            "protect" => fields.protect = keep(boolean(value), line, &mut report),
            "members_exclusive" => {
                fields.members_exclusive = keep(boolean(value), line, &mut report);
            }
            "members_silent" => fields.members_silent = keep(boolean(value), line, &mut report),
            "admins" | "members" => {
                let list_ctx = Ctx {
                    prefix: ctx.within(if key == "admins" { "admins" } else { "members" }),
                    line,
                    ..ctx.clone()
                };
                let read = accounts(value, &list_ctx, problems).map(|value| Written {
                    value,
                    line,
                    from_defaults: false,
                });
                if key == "admins" {
                    fields.admins = read;
                } else {
                    fields.members = read;
                }
            }
            "create_time" => {
                let parsed =
                    whole(value, validate::CREATE_TIME_RANGE).and_then(validate::create_time);
                fields.create_time = keep(parsed, line, &mut report);
            }
            "ensure" => {
                let parsed = enum_value(value, &["present", "absent"], &[]).map(|s| match s {
                    "absent" => Ensure::Absent,
                    _ => Ensure::Present,
                });
                fields.ensure = keep(parsed, line, &mut report);
            }
            "custom" => {
                let custom_ctx = Ctx {
                    prefix: ctx.within("custom."),
                    line,
                    ..ctx.clone()
                };
                fields.custom = custom(value, &custom_ctx, limits, problems).map(|value| Written {
                    value,
                    line,
                    from_defaults: false,
                });
            }
            other => {
                let allowed = match block {
                    Block::Group => GROUP_KEYS.to_vec(),
                    Block::Defaults => default_keys(),
                };
                problems.push(ctx.problem(line, None, unknown_key(other, &allowed)));
            }
        }
    }
    fields
}

/// A field's value as written, or its problem reported.
fn keep<T>(
    parsed: Result<T, String>,
    line: Option<usize>,
    report: &mut impl FnMut(String),
) -> Option<Written<T>> {
    match parsed {
        Ok(value) => Some(Written {
            value,
            line,
            from_defaults: false,
        }),
        Err(message) => {
            report(message);
            None
        }
    }
}

/// The `custom` map: every key and value checked, all problems reported. `None` when it is not
/// a mapping or any entry is wrong.
fn custom(
    value: &Val<'_>,
    ctx: &Ctx<'_>,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> Option<Custom> {
    let Val::Map(map) = value else {
        let message = match local_tag(value) {
            Some(tag) => unsupported_tag(&tag),
            None => format!(
                "expected a mapping of keys to strings, found {}",
                describe(value)
            ),
        };
        problems.push(ctx.problem(None, None, message));
        return None;
    };
    let before = problems.len();
    if map.len() > limits.custom_keys {
        let message = format!("{} keys, at most {}", map.len(), limits.custom_keys);
        problems.push(ctx.problem(None, None, message));
    }
    // Pairs of the model's own strings: the map is then made in place, with no second list.
    let mut out: Vec<(CompactString, CompactString)> = Vec::with_capacity(map.len());
    for (key, item) in map {
        let Some(key) = key.as_str() else {
            problems.push(ctx.problem(item.line, None, not_a_key(key)));
            continue;
        };
        let (line, value) = (item.line, &item.value);
        // `custom.KEY`, or `custom` itself for the empty key.
        let field = Some(key).filter(|k| !k.is_empty());
        for message in validate::custom_key(key, limits) {
            problems.push(ctx.problem(line, field, message));
        }
        let written = || ctx.source.scalar(line.or(ctx.line), Some(key), value);
        let checked = text_as_written(value, None, false, written)
            .and_then(|v| validate::custom_value(&v, limits).map(|()| v));
        match checked {
            Ok(v) => out.push((key.into(), v)),
            Err(message) => problems.push(ctx.problem(line, field, message)),
        }
    }
    (problems.len() == before).then(|| out.into_iter().collect())
}

/// An `admins` or `members` list: every item a non-empty account id, none repeated. `None`
/// when it is not a list or any item is wrong (every problem reported, at the item's line).
fn accounts(value: &Val<'_>, ctx: &Ctx<'_>, problems: &mut Vec<Problem>) -> Option<Accounts> {
    let Val::Seq(items) = value else {
        let message = expected("a list of account ids", value);
        problems.push(ctx.problem(None, None, message));
        return None;
    };
    let before = problems.len();
    let mut out: Accounts = Vec::with_capacity(items.len());
    for item in items {
        let line = item.line.or(ctx.line);
        let written = || ctx.source.scalar(line, None, &item.value);
        match text_as_written(&item.value, None, true, written) {
            Err(message) => problems.push(ctx.problem(line, None, message)),
            Ok(account) if account.trim() != account => problems.push(ctx.problem(
                line,
                None,
                format!("account {account:?} must not start or end with whitespace"),
            )),
            Ok(account) => {
                if let Some((_, first)) = out.iter().find(|(a, _)| *a == account) {
                    let at = match first {
                        Some(l) if *first != line => format!(" (first on line {l})"),
                        _ => String::new(),
                    };
                    problems.push(ctx.problem(
                        line,
                        None,
                        format!("account {account:?} is listed twice{at}"),
                    ));
                }
                out.push((account, line));
            }
        }
    }
    (problems.len() == before).then_some(out)
}

/// A string field, with its byte limit and whether it may be empty; `written` is the value as
/// the file spells it, for the hint to quote it when it is not a string.
pub(crate) fn text_as_written(
    value: &Val<'_>,
    max: Option<usize>,
    non_empty: bool,
    written: impl FnOnce() -> Option<String>,
) -> Result<CompactString, String> {
    let Val::Str(s) = value else {
        return Err(expected_as_written("a string", value, written));
    };
    if non_empty && s.is_empty() {
        return Err("must not be empty".into());
    }
    if let Some(max) = max {
        validate::byte_len(s, max)?;
    }
    // In place up to 24 bytes, as the model keeps it: no heap copy for most values.
    Ok(CompactString::from(&**s))
}

/// A boolean; a tagged one (`!flag true`) is refused like any tagged value.
fn boolean(value: &Val<'_>) -> Result<bool, String> {
    match value {
        Val::Bool(b) => Ok(*b),
        _ => Err(expected("true or false", value)),
    }
}

/// A non-negative whole number that fits 64 bits. A whole number outside (negative, too
/// large for 64 bits or even for a float: `1e400`) is out of `range`, which says what is
/// allowed; anything else is the wrong type.
fn whole(value: &Val<'_>, range: &str) -> Result<u64, String> {
    let out_of_range = |written: &dyn std::fmt::Display| validate::out_of_range(written, range);
    match value {
        Val::Int(n) => return u64::try_from(*n).map_err(|_| out_of_range(n)),
        Val::Other(Value::Number(n)) => {
            if let Some(u) = n.as_u64() {
                return Ok(u);
            }
            let whole_float = n
                .as_f64()
                .is_some_and(|f| f.is_infinite() || f.fract() == 0.0);
            if n.as_i64().is_some() || whole_float {
                return Err(out_of_range(n));
            }
        }
        Val::Str(s) if overflows_a_float(s) => return Err(out_of_range(s)),
        Val::Other(other) => {
            if let Some(digits) = big_integer(other) {
                return Err(out_of_range(&digits));
            }
        }
        _ => {}
    }
    Err(expected("a whole number", value))
}

/// A number in YAML's float syntax too large for a float (`1e400`), which the parser leaves
/// as text.
fn overflows_a_float(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b))
        && s.parse::<f64>().is_ok_and(f64::is_infinite)
}

/// A string that must be one of `allowed`.
fn enum_value<'a>(
    value: &Val<'_>,
    allowed: &[&'a str],
    aliases: &[(&str, &str)],
) -> Result<&'a str, String> {
    if let Some(tag) = local_tag(value) {
        return Err(unsupported_tag(&tag));
    }
    let Val::Str(s) = value else {
        return Err(format!(
            "expected one of {}, found {}",
            allowed.join(", "),
            describe(value)
        ));
    };
    allowed
        .iter()
        .find(|a| **a == s)
        .copied()
        .ok_or_else(|| unknown_value(s, allowed, aliases))
}

/// Why a tagged value is refused: a tag the loader cannot honour would otherwise be dropped or
/// mistaken for text (`!!binary aGk=` is not the bytes "hi").
pub(crate) fn unsupported_tag(tag: &str) -> String {
    let honoured: Vec<String> = HONOURED_TAGS.iter().map(|t| format!("!!{t}")).collect();
    format!(
        "tag {tag} is not supported (only {} are); write the value untagged, and any bytes as \
         escapes in a double-quoted string: \"\\0\", \"\\x7F\", \"\\u00E9\"",
        honoured.join(", ")
    )
}

/// A value's local tag (`!custom`), which the parser keeps: it is refused, not read.
fn local_tag(value: &Val<'_>) -> Option<String> {
    match value {
        Val::Other(tagged @ Value::Tagged(t)) if big_integer(tagged).is_none() => {
            Some(t.tag.to_string())
        }
        _ => None,
    }
}

/// Why a mapping key that is not a string is refused.
pub(crate) fn not_a_key(key: &Val<'_>) -> String {
    match local_tag(key) {
        Some(tag) => unsupported_tag(&tag),
        None => format!("keys must be strings, found {}", describe(key)),
    }
}

/// "expected X, found Y"; for a tagged value, why tags are refused.
pub(crate) fn expected(what: &str, found: &Val<'_>) -> String {
    expected_as_written(what, found, || None)
}

/// [`expected`], with a hint to quote a number or boolean meant as a string: the text as
/// `written` in the file (`"0o17"`) when it is known, else the value as the parser read it.
pub(crate) fn expected_as_written(
    what: &str,
    found: &Val<'_>,
    written: impl FnOnce() -> Option<String>,
) -> String {
    if let Some(tag) = local_tag(found) {
        return unsupported_tag(&tag);
    }
    let mut message = format!("expected {what}, found {}", describe(found));
    if what == "a string" {
        let read = match found {
            Val::Int(n) => Some(n.to_string()),
            Val::Bool(b) => Some(b.to_string()),
            Val::Other(Value::Number(n)) => Some(n.to_string()),
            Val::Other(other) => big_integer(other).map(str::to_owned),
            _ => None,
        };
        if let Some(read) = read {
            let shown = written().unwrap_or(read);
            message.push_str(&format!(" (quote it: \"{shown}\")"));
        }
    }
    message
}

/// How a value is named in messages.
pub(crate) fn describe(value: &Val<'_>) -> String {
    match value {
        Val::Null => "null (an empty value)".into(),
        Val::Bool(b) => format!("boolean {b}"),
        Val::Int(n) => format!("integer {n}"),
        Val::Str(s) => format!("string {s:?}"),
        Val::Seq(_) | Val::Deep(Collection::List) => "a list".into(),
        Val::Map(_) | Val::Deep(Collection::Mapping) => "a mapping".into(),
        Val::Other(other) => describe_value(other),
    }
}

/// [`describe`] for what only the full reader gives.
fn describe_value(value: &Value) -> String {
    if let Some(digits) = big_integer(value) {
        return format!("integer {digits}");
    }
    match value {
        Value::Number(n) if n.is_f64() => format!("number {n}"),
        Value::Number(n) => format!("integer {n}"),
        Value::Tagged(t) => format!("a value tagged {}", t.tag),
        // The tree gives every other value a shape of its own.
        other => describe(&Item::shallow(other)),
    }
}
