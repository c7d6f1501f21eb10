//! One manifest file → its declared groups and prune prefixes.
//!
//! A file holds one or more YAML documents, each with optional `defaults`, `groups` and `prune`.
//! A document's `defaults` apply to the groups of that document only. Every problem is pushed
//! and reading goes on; a group comes out only when its id is usable, and the caller returns no
//! groups at all if any problem was found.
//!
//! Before the parser, [`scan`] refuses nesting deep enough to make parsing slow.
//!
//! A file of plain block YAML is read in one pass ([`plain`]), lines and all. Any other file
//! is read by the full reader, whose lines come from the parser for syntax errors and from
//! [`locate`] for everything else; when the two disagree on the number of documents, the
//! file's problems carry no line rather than a wrong one. Both give the rules one
//! [`tree`](super::tree).

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use serde_yaml::Value;

use super::Limits;
use super::fields::{
    self, Block, Ctx, Fields, describe, expected, expected_as_written, not_a_key, unsupported_tag,
};
use super::locate::{self, Node};
use super::nodes;
use super::plain;
use super::problem::Problem;
use super::scan::{self, MAX_NESTING};
use super::suggest::unknown_key;
use super::tree::{Item, Val};
use super::validate;
use super::written::SourceText;
use crate::model::{CompactString, DesiredGroup, Ensure, Group, GroupId, People, Source};

const TOP_KEYS: &[&str] = &["defaults", "groups", "prune"];
const PRUNE_KEYS: &[&str] = &["id_prefixes"];

/// What the files declare, in the order read (duplicates are checked by the caller).
#[derive(Debug, Default)]
pub(crate) struct Declared {
    /// Behind pointers, as in [`crate::model::Desired`]: sorting and indexing 100,000 of them
    /// then moves pointers, not 240-byte groups.
    pub groups: Vec<Arc<DesiredGroup>>,
    pub prune_prefixes: BTreeSet<String>,
    /// The files that declare a prune, for [`super::prune_scope`].
    pub prune_files: BTreeSet<std::path::PathBuf>,
}

/// Reads one file's bytes into `out`, pushing every problem.
#[cfg(test)]
pub(crate) fn read_file(
    file: &Path,
    bytes: &[u8],
    limits: &Limits,
    out: &mut Declared,
    problems: &mut Vec<Problem>,
) {
    read_file_keeping(file, bytes, limits, out, problems, &mut Spent::default());
}

/// [`read_file`], handing the file's parsed trees to `spent` to be freed when it says.
pub(crate) fn read_file_keeping(
    file: &Path,
    bytes: &[u8],
    limits: &Limits,
    out: &mut Declared,
    problems: &mut Vec<Problem>,
    spent: &mut Spent,
) {
    let max_nodes = nodes::budget_for(bytes.len());
    if let Some(read) = read_file_within(file, bytes, limits, max_nodes, out, problems) {
        spent.keep(read, bytes.len());
    }
}

/// Parsed YAML trees whose freeing is put off. Freeing the values and lines the full reader
/// made of a file is a third of the work of reading it, and it can wait until the network is
/// being waited on: a full plan frees them on a thread of its own once the manifests are
/// valid, while its reads are on the wire. Dropping a `Spent` frees them at once. (What the
/// one-pass reader makes borrows the file's text and is a few vectors a group: it is freed
/// as it is read.)
#[derive(Debug, Default)]
pub struct Spent {
    trees: Vec<Read>,
    /// Bytes of the text the kept trees were read from.
    bytes: usize,
    /// The most bytes of text whose trees are kept; 0 ([`Spent::default`]) keeps none.
    limit: usize,
}

/// The most text whose trees are kept to be freed later (a tree takes about ten times its
/// text): about 20,000 groups' worth. Past it, trees are freed as they are made, so that
/// putting work off never holds more than some tens of MB.
const MAX_SPENT_BYTES: usize = 4 << 20;

impl Spent {
    /// Keeps trees up to [`MAX_SPENT_BYTES`] of text, or (`keeping` false) none.
    pub(crate) fn new(keeping: bool) -> Spent {
        Spent::share(keeping, 1)
    }

    /// One of `parts` that are joined later ([`Spent::extend`]): each keeps its share of
    /// [`MAX_SPENT_BYTES`], so that what the parts kept is never freed at the join.
    pub(crate) fn share(keeping: bool, parts: usize) -> Spent {
        Spent {
            limit: if keeping { MAX_SPENT_BYTES / parts } else { 0 },
            ..Spent::default()
        }
    }

    fn keep(&mut self, read: Read, bytes: usize) {
        if self.limit > 0 && self.bytes + bytes <= self.limit {
            self.bytes += bytes;
            self.trees.push(read);
        }
    }

    /// Takes the trees `other` kept, as far as the bound allows.
    pub(crate) fn extend(&mut self, other: Spent) {
        if self.limit > 0 && self.bytes + other.bytes <= self.limit {
            self.bytes += other.bytes;
            self.trees.extend(other.trees);
        }
    }

    /// Frees the trees on a thread of its own, or here if no thread can be started. A
    /// process that exits first leaves the rest to the system.
    pub fn free_in_background(self) {
        if self.trees.is_empty() {
            return;
        }
        // When no thread starts, the closure is dropped here, and the trees with it.
        let _detached = std::thread::Builder::new()
            .name("timctl-free".into())
            .spawn(move || drop(self));
    }
}

/// [`read_file`], building at most `max_nodes` YAML values (aliases' copies included); the
/// full reader's trees, when it read the file, for the caller to free.
pub(crate) fn read_file_within(
    file: &Path,
    bytes: &[u8],
    limits: &Limits,
    max_nodes: usize,
    out: &mut Declared,
    problems: &mut Vec<Problem>,
) -> Option<Read> {
    let problem = |line, message: String| Problem {
        file: file.to_owned(),
        line,
        group: None,
        field: None,
        message,
    };
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => {
            let valid = &bytes[..e.valid_up_to()];
            let line = valid.iter().filter(|b| **b == b'\n').count() + 1;
            let message = format!("not valid UTF-8 (byte {})", e.valid_up_to());
            problems.push(problem(Some(line), message));
            return None;
        }
    };
    let text = &*scan::without_boms(text);
    let shared: Arc<Path> = Arc::from(file);
    let source = SourceText::new(text);
    if let Ok(documents) = plain::documents(text, max_nodes) {
        #[cfg(debug_assertions)]
        same_as_full(text, max_nodes, &problem, &documents);
        for document in &documents {
            read_document(&shared, &source, document, limits, out, problems);
        }
        return None;
    }
    let read = read_full(text, max_nodes, &problem, problems)?;
    for document in read.documents() {
        read_document(&shared, &source, &document, limits, out, problems);
    }
    for (line, tag) in &read.dropped_tags {
        let (group, field) = place(&read.values, &read.positions, *line);
        problems.push(Problem {
            group,
            field,
            ..problem(Some(*line), unsupported_tag(tag))
        });
    }
    Some(read)
}

/// A file's documents as the full reader read them: YAML values, with their located lines
/// where known.
#[derive(Debug)]
pub(super) struct Read {
    /// `None` for a document whose merge (`<<`) failed.
    pub values: Vec<Option<Value>>,
    pub positions: Vec<Option<Node>>,
    /// Tags the parser dropped: (line, tag as written).
    pub dropped_tags: Vec<(usize, String)>,
}

impl Read {
    /// The documents that could be read, as the rules read them.
    pub fn documents(&self) -> Vec<Item<'_>> {
        let located = |index: usize| self.positions.get(index).and_then(Option::as_ref);
        self.values
            .iter()
            .enumerate()
            .filter_map(|(index, value)| {
                let pos = located(index);
                Some(Item::view(value.as_ref()?, pos, pos.map(|p| p.line)))
            })
            .collect()
    }
}

/// Every file a debug build reads in one pass checks the one-pass reader against the full
/// one.
#[cfg(debug_assertions)]
fn same_as_full(
    text: &str,
    max_nodes: usize,
    problem: &dyn Fn(Option<usize>, String) -> Problem,
    documents: &[Item<'_>],
) {
    let mut found = Vec::new();
    let full = read_full(text, max_nodes, problem, &mut found);
    assert!(
        found.is_empty(),
        "the full reader found problems: {found:?}\n{text}"
    );
    let full = full.expect("the full reader read the file");
    assert!(full.dropped_tags.is_empty(), "tags in plain text:\n{text}");
    assert_eq!(
        full.documents(),
        documents,
        "the two readers differ on:\n{text}"
    );
}

/// The full reader: [`scan`], `yaml_serde` on a budget ([`nodes`]), merges, and [`locate`].
pub(super) fn read_full(
    text: &str,
    max_nodes: usize,
    problem: &dyn Fn(Option<usize>, String) -> Problem,
    problems: &mut Vec<Problem>,
) -> Option<Read> {
    let scanned = match scan::scan(text) {
        Ok(scanned) => scanned,
        Err(deep) => {
            let message = format!(
                "lists and mappings nested more than {MAX_NESTING} levels deep (a manifest \
                 needs about 5); the file is not read further"
            );
            problems.push(problem(Some(deep.line), message));
            return None;
        }
    };
    for &line in &scanned.tag_directives {
        let message = "%TAG directives are not supported: they change what tags mean".into();
        problems.push(problem(Some(line), message));
    }
    let mut values = Vec::new();
    let mut complete = true;
    let budget = nodes::Budget::new(max_nodes);
    for document in serde_yaml::Deserializer::from_str(text) {
        match nodes::read(document, &budget) {
            Ok(mut value) => match value.apply_merge() {
                Ok(()) => values.push(Some(value)),
                Err(e) => {
                    problems.push(problem(None, format!("invalid YAML merge (<<): {e}")));
                    values.push(None);
                }
            },
            Err(e) => {
                // The parser cannot resume after an error: the rest of the file is unread.
                let line = e.location().map(|l| l.line());
                let message = if budget.spent_out() {
                    format!(
                        "more than {max_nodes} YAML values, counting the copies that aliases \
                         (*name) make (a file may build {} a byte, at most {}); the file is \
                         not read further",
                        nodes::NODES_PER_BYTE,
                        nodes::MAX_NODES
                    )
                } else if e.to_string() == "repetition limit exceeded" {
                    "invalid YAML: aliases (*name) are used too many times (repetition limit \
                     exceeded)"
                        .to_owned()
                } else {
                    format!("invalid YAML: {e}")
                };
                problems.push(problem(line, message));
                complete = false;
                break;
            }
        }
    }
    let mut positions = locate::documents(text);
    if complete && positions.len() != values.len() {
        positions.clear();
    }
    Some(Read {
        values,
        positions,
        dropped_tags: scanned.dropped_tags,
    })
}

/// The group and field that `line` falls in, as far as the located documents tell, for a
/// problem the scan found in the text: the field named as [`Problem`] names it.
fn place(
    values: &[Option<Value>],
    positions: &[Option<Node>],
    line: usize,
) -> (Option<GroupId>, Option<String>) {
    let document = positions
        .iter()
        .zip(values)
        .filter_map(|(pos, value)| Some((pos.as_ref()?, value.as_ref()?)))
        .take_while(|(pos, _)| pos.line <= line)
        .last();
    let Some((pos, value)) = document else {
        return (None, None);
    };
    let mut path = Vec::new();
    path_at(value, pos, line, &mut path);
    let group = match path.as_slice() {
        [Step::Key(groups), Step::Index(i), ..] if groups == "groups" => value["groups"][*i]
            .get("id")
            .and_then(Value::as_str)
            .map(GroupId::from),
        _ => None,
    };
    let within = if group.is_some() {
        &path[2..]
    } else {
        &path[..]
    };
    let mut field = String::new();
    for step in within {
        match step {
            Step::Key(key) if field.is_empty() => field.push_str(key),
            Step::Key(key) => field.push_str(&format!(".{key}")),
            Step::Index(i) => field.push_str(&format!("[{i}]")),
        }
    }
    (group, Some(field).filter(|f| !f.is_empty()))
}

enum Step {
    Key(String),
    Index(usize),
}

/// The path down to the last node that starts at or before `line`, where the located
/// structure agrees with the parsed one.
fn path_at(value: &Value, pos: &Node, line: usize, path: &mut Vec<Step>) {
    match (&pos.kind, value) {
        (locate::Kind::Map(entries), Value::Mapping(map)) => {
            let entry = entries.iter().rev().find(|(_, node)| node.line <= line);
            if let Some((key, node)) = entry
                && let Some(value) = map.get(key.as_str())
            {
                path.push(Step::Key(key.to_string()));
                path_at(value, node, line, path);
            }
        }
        (locate::Kind::Seq(items), Value::Sequence(values)) if items.len() == values.len() => {
            if let Some(i) = items.iter().rposition(|node| node.line <= line) {
                path.push(Step::Index(i));
                path_at(&values[i], &items[i], line, path);
            }
        }
        _ => {}
    }
}

fn read_document<'a>(
    file: &'a Arc<Path>,
    source: &'a SourceText<'a>,
    document: &Item<'_>,
    limits: &Limits,
    out: &mut Declared,
    problems: &mut Vec<Problem>,
) {
    let root = Ctx {
        file,
        source,
        group: None,
        prefix: "".into(),
        line: document.line,
    };
    let map = match &document.value {
        Val::Null => return,
        Val::Map(map) => map,
        other => {
            let message = format!(
                "expected a mapping with keys {}; found {}",
                TOP_KEYS.join(", "),
                describe(other)
            );
            problems.push(root.problem(None, None, message));
            return;
        }
    };
    report_unknown_keys(map, &root, TOP_KEYS, problems);
    let child = |key: &str| {
        let item = document.value.get(key);
        let ctx = Ctx {
            prefix: format!("{key}.").into(),
            line: item.and_then(|i| i.line).or(root.line),
            ..root.clone()
        };
        (item.filter(|i| i.value != Val::Null), ctx)
    };

    let defaults = match child("defaults") {
        (
            Some(Item {
                value: Val::Map(m), ..
            }),
            ctx,
        ) => fields::read_fields(m, &ctx, Block::Defaults, limits, problems),
        (Some(Item { value: other, .. }), ctx) => {
            let message = format!(
                "expected a mapping of group fields, found {}",
                describe(other)
            );
            problems.push(ctx.problem(None, None, message));
            Fields::default()
        }
        (None, _) => Fields::default(),
    };

    match child("groups") {
        (
            Some(Item {
                value: Val::Seq(items),
                ..
            }),
            ctx,
        ) => {
            for (index, item) in items.iter().enumerate() {
                let item_ctx = Ctx {
                    line: item.line.or(ctx.line),
                    ..root.clone()
                };
                let group = read_group(item, index, item_ctx, &defaults, limits, problems);
                out.groups.extend(group.map(Arc::new));
            }
        }
        (Some(Item { value: other, .. }), ctx) => {
            let message = format!("expected a list of groups, found {}", describe(other));
            problems.push(ctx.problem(None, None, message));
        }
        (None, _) => {}
    }

    if let (Some(item), ctx) = child("prune") {
        let prefixes = read_prune(&item.value, &ctx, problems);
        if !prefixes.is_empty() {
            out.prune_files.insert(file.to_path_buf());
        }
        out.prune_prefixes.extend(prefixes);
    }
}

/// Entry `index` of `groups`, named by its id where it has a usable one and by its index
/// (`groups[2].`) otherwise.
fn read_group(
    item: &Item<'_>,
    index: usize,
    mut ctx: Ctx<'_>,
    defaults: &Fields,
    limits: &Limits,
    problems: &mut Vec<Problem>,
) -> Option<DesiredGroup> {
    let id = item.value.get("id");
    match id.map(|i| &i.value) {
        Some(Val::Str(id)) => ctx.group = Some(GroupId::from(&**id)),
        // Made only here, not for each group: most have an id.
        _ => ctx.prefix = format!("groups[{index}].").into(),
    }
    let Val::Map(map) = &item.value else {
        let message = format!(
            "expected a group (a mapping with an id), found {}",
            describe(&item.value)
        );
        problems.push(ctx.problem(None, None, message));
        return None;
    };
    let id_line = id.and_then(|i| i.line).or(ctx.line);
    let id = match id.map(|i| &i.value) {
        None => {
            problems.push(ctx.problem(None, None, "missing id; every group needs one"));
            None
        }
        Some(Val::Str(id)) => {
            for message in validate::group_id(id) {
                problems.push(ctx.problem(id_line, Some("id"), message));
            }
            Some(CompactString::from(&**id))
        }
        Some(other) => {
            let written = || ctx.source.scalar(id_line, Some("id"), other);
            let message = expected_as_written("a string", other, written);
            problems.push(ctx.problem(id_line, Some("id"), message));
            None
        }
    };
    let own = fields::read_fields(map, &ctx, Block::Group, limits, problems);
    let merged = own.over(defaults);
    validate::merged(id.as_deref(), id_line, &merged, &ctx, problems);
    Some(desired_group(id?, merged, ctx))
}

fn desired_group(id: CompactString, f: Fields, ctx: Ctx<'_>) -> DesiredGroup {
    DesiredGroup {
        group: Group {
            id: GroupId(id),
            group_type: f.group_type.map(|w| w.value),
            name: f.name.map(|w| w.value),
            owner: f.owner.map(|w| w.value),
            introduction: f.introduction.map(|w| w.value),
            notification: f.notification.map(|w| w.value),
            face_url: f.face_url.map(|w| w.value),
            max_members: f.max_members.map(|w| w.value),
            apply_join: f.apply_join.map(|w| w.value),
            mute_all: f.mute_all.map(|w| w.value),
            custom: f.custom.map(|w| w.value),
            create_time: f.create_time.map(|w| w.value),
        },
        ensure: f.ensure.map_or(Ensure::Present, |w| w.value),
        protect: f.protect.is_some_and(|w| w.value),
        source: Source {
            file: Arc::clone(ctx.file),
            line: ctx.line,
        },
        people: People {
            admins: f.admins.map(|w| accounts(w.value)),
            members: f.members.map(|w| accounts(w.value)),
            exclusive: f.members_exclusive.is_some_and(|w| w.value),
            silent: f.members_silent.is_some_and(|w| w.value),
        },
    }
}

/// The accounts of an `admins` or `members` list, their lines dropped.
fn accounts(written: fields::Accounts) -> BTreeSet<CompactString> {
    written.into_iter().map(|(a, _)| a).collect()
}

/// `prune: {id_prefixes: [...]}`: every prefix a non-empty string.
fn read_prune(value: &Val<'_>, ctx: &Ctx<'_>, problems: &mut Vec<Problem>) -> Vec<String> {
    let Val::Map(map) = value else {
        let message = format!(
            "expected a mapping with id_prefixes, found {}",
            describe(value)
        );
        problems.push(ctx.problem(None, None, message));
        return Vec::new();
    };
    report_unknown_keys(map, ctx, PRUNE_KEYS, problems);
    let list = value.get("id_prefixes");
    let line = list.and_then(|i| i.line);
    let items = match list.map(|i| &i.value) {
        Some(Val::Seq(items)) => items,
        None => {
            let message = "missing id_prefixes: the id prefixes under which live groups that \
                           no manifest declares are destroyed";
            problems.push(ctx.problem(None, None, message));
            return Vec::new();
        }
        Some(other) => {
            let message = expected("a list of id prefixes", other);
            problems.push(ctx.problem(line, Some("id_prefixes"), message));
            return Vec::new();
        }
    };
    let mut prefixes = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let line = item.line.or(line);
        let field = format!("id_prefixes[{index}]");
        match &item.value {
            Val::Str(s) if s.is_empty() => problems.push(ctx.problem(
                line,
                Some(&field),
                "must not be empty: an empty prefix would prune every group",
            )),
            Val::Str(s) => prefixes.push(s.to_string()),
            other => {
                let written = || ctx.source.scalar(line, None, other);
                let message = expected_as_written("a string", other, written);
                problems.push(ctx.problem(line, Some(&field), message));
            }
        }
    }
    prefixes
}

fn report_unknown_keys(
    map: &[(Val<'_>, Item<'_>)],
    ctx: &Ctx<'_>,
    allowed: &[&str],
    problems: &mut Vec<Problem>,
) {
    for (key, item) in map {
        match key.as_str() {
            Some(k) if allowed.contains(&k) => {}
            Some(k) => problems.push(ctx.problem(item.line, None, unknown_key(k, allowed))),
            None => problems.push(ctx.problem(item.line, None, not_a_key(key))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> Read {
        Read {
            values: vec![Some(Value::Null)],
            positions: vec![None],
            dropped_tags: Vec::new(),
        }
    }

    #[test]
    fn trees_are_kept_for_later_only_up_to_the_bound() {
        let mut none = Spent::default();
        none.keep(tree(), 1);
        assert!(none.trees.is_empty(), "a default Spent keeps nothing");

        let mut spent = Spent::new(true);
        spent.keep(tree(), MAX_SPENT_BYTES - 10);
        spent.keep(tree(), 10);
        assert_eq!(spent.trees.len(), 2, "exactly at the bound: kept");
        spent.keep(tree(), 1);
        assert_eq!(spent.trees.len(), 2, "past the bound: freed at once");

        let mut joined = Spent::new(true);
        joined.keep(tree(), 5);
        joined.extend(spent);
        assert_eq!(
            joined.trees.len(),
            1,
            "a whole part past the bound is freed"
        );
        assert_eq!(joined.bytes, 5);

        // Parts read side by side keep their shares, so joining them frees nothing.
        let mut whole = Spent::new(true);
        for _ in 0..2 {
            let mut part = Spent::share(true, 2);
            part.keep(tree(), MAX_SPENT_BYTES / 2);
            part.keep(tree(), 1);
            assert_eq!(part.trees.len(), 1, "a part keeps only its share");
            whole.extend(part);
        }
        assert_eq!(whole.trees.len(), 2);
    }

    #[test]
    fn loading_keeps_the_full_reader_s_trees_only_when_asked() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        // An anchor is outside what the one-pass reader reads: the full reader reads a and b.
        for name in ["a", "b"] {
            let text = format!("groups:\n  - id: &i {name}\n    name: *i\n");
            std::fs::write(dir.path().join(format!("{name}.yaml")), text).expect("written");
        }
        std::fs::write(dir.path().join("c.yaml"), "groups:\n  - id: c\n").expect("written");
        let paths = [dir.path().to_owned()];
        let kept = super::super::load_manifests_keeping(&paths, &Limits::default(), true);
        let kept = kept.expect("valid");
        assert_eq!(kept.desired.groups.len(), 3);
        assert_eq!(
            kept.spent.trees.len(),
            2,
            "the one-pass reader's tree borrows the text and is freed as it is read"
        );
        kept.spent.free_in_background();
        let freed = super::super::load_manifests(&paths, &Limits::default()).expect("valid");
        assert_eq!(freed.desired, kept.desired);
        assert!(freed.spent.trees.is_empty(), "freed as they were read");
    }
}
