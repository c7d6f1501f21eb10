//! "Did you mean": the closest allowed word for a misspelled key or enum value.
//!
//! Users come from three places: the manifest docs (snake_case), the TIM REST API (PascalCase
//! `MaxMemberCount`, `Owner_Account`) and the console (new type names such as `Work`). So a
//! suggestion is found, in order, by ignoring case and `_`/`-`, through a table of those other
//! names, then by string similarity (Jaro-Winkler) for plain typos.

/// Other names users write for manifest keys: the REST API's and a few natural ones.
/// Compared after [`normalize`].
const KEY_ALIASES: &[(&str, &str)] = &[
    ("groupid", "id"),
    ("grouptype", "type"),
    ("groupname", "name"),
    ("owneraccount", "owner"),
    ("maxmembercount", "max_members"),
    ("maxmembernum", "max_members"),
    ("applyjoinoption", "apply_join"),
    ("muteallmember", "mute_all"),
    ("shutupallmember", "mute_all"),
    ("appdefineddata", "custom"),
    ("notice", "notification"),
    ("announcement", "notification"),
    ("avatar", "face_url"),
    ("prefixes", "id_prefixes"),
];

/// The console's current names for the REST API's group types.
pub(crate) const TYPE_ALIASES: &[(&str, &str)] = &[
    ("work", "Private"),
    ("meeting", "ChatRoom"),
    ("live", "AVChatRoom"),
];

/// The message for a key that is not in `allowed`.
pub(crate) fn unknown_key(key: &str, allowed: &[&str]) -> String {
    match closest(key, allowed, KEY_ALIASES) {
        Some(best) => format!("unknown key {key:?}; did you mean {best:?}?"),
        None => format!(
            "unknown key {key:?}; expected one of {}",
            allowed.join(", ")
        ),
    }
}

/// The message for a string that is not one of an enum's `allowed` values.
pub(crate) fn unknown_value(value: &str, allowed: &[&str], aliases: &[(&str, &str)]) -> String {
    let listed = allowed.join(", ");
    match closest(value, allowed, aliases) {
        Some(best) => format!("{value:?} is not one of {listed}; did you mean {best:?}?"),
        None => format!("{value:?} is not one of {listed}"),
    }
}

/// The allowed word `word` most likely stands for, if any is close enough.
pub(crate) fn closest<'a>(
    word: &str,
    allowed: &[&'a str],
    aliases: &[(&str, &str)],
) -> Option<&'a str> {
    let norm = normalize(word);
    if let Some(same) = allowed.iter().find(|a| normalize(a) == norm) {
        return Some(same);
    }
    if let Some((_, target)) = aliases.iter().find(|(alias, _)| *alias == norm)
        && let Some(found) = allowed.iter().find(|a| *a == target)
    {
        return Some(found);
    }
    allowed
        .iter()
        .map(|a| (strsim::jaro_winkler(&norm, &normalize(a)), *a))
        .filter(|(score, _)| *score >= 0.8)
        .max_by(|x, y| x.0.total_cmp(&y.0))
        .map(|(_, a)| a)
}

fn normalize(word: &str) -> String {
    word.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEYS: &[&str] = &["id", "type", "name", "max_members", "owner", "custom"];

    #[test]
    fn typos_case_and_api_names_find_the_manifest_key() {
        assert_eq!(closest("nmae", KEYS, KEY_ALIASES), Some("name"));
        assert_eq!(closest("tpye", KEYS, KEY_ALIASES), Some("type"));
        assert_eq!(
            closest("maxMembers", KEYS, KEY_ALIASES),
            Some("max_members")
        );
        assert_eq!(
            closest("MaxMemberCount", KEYS, KEY_ALIASES),
            Some("max_members")
        );
        assert_eq!(closest("Owner_Account", KEYS, KEY_ALIASES), Some("owner"));
        assert_eq!(closest("AppDefinedData", KEYS, KEY_ALIASES), Some("custom"));
        assert_eq!(closest("GroupId", KEYS, KEY_ALIASES), Some("id"));
    }

    #[test]
    fn unrelated_words_get_the_list_instead() {
        assert_eq!(closest("colour", KEYS, KEY_ALIASES), None);
        assert_eq!(
            unknown_key("colour", &["a", "b"]),
            r#"unknown key "colour"; expected one of a, b"#
        );
    }

    #[test]
    fn an_alias_to_a_key_not_allowed_here_suggests_nothing() {
        assert_eq!(closest("GroupId", &["name", "type"], KEY_ALIASES), None);
    }

    #[test]
    fn enum_values_by_case_and_console_name() {
        let types = ["Private", "Public", "ChatRoom", "AVChatRoom", "Community"];
        assert_eq!(
            unknown_value("public", &types, TYPE_ALIASES),
            r#""public" is not one of Private, Public, ChatRoom, AVChatRoom, Community; did you mean "Public"?"#
        );
        assert_eq!(closest("Work", &types, TYPE_ALIASES), Some("Private"));
        assert_eq!(closest("Meeting", &types, TYPE_ALIASES), Some("ChatRoom"));
        assert_eq!(closest("BChatRoom", &types, TYPE_ALIASES), Some("ChatRoom"));
    }
}
