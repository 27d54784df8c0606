//! Statements as the trace shows them: string literals replaced by `'?'`,
//! whitespace collapsed, comments dropped. Ids, timestamps and JSON blobs
//! differ on every run of the same schedule (an ORM inlines them as string
//! literals); the statement's shape and its numbers do not, so two runs of
//! one schedule print the same text and a replay can be compared with the
//! recording. Numbers are kept: `SET stocked_quantity = 0` is the story.

/// The normalised text of `sql`.
pub fn normalise(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::with_capacity(sql.len());
    let mut i = 0;
    let mut space = false;
    let push = |out: &mut String, text: &str, space: &mut bool| {
        if *space && !out.is_empty() {
            out.push(' ');
        }
        *space = false;
        out.push_str(text);
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            space = true;
            i += 1;
        } else if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            space = true;
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            space = true;
        } else if c == '\''
            || ((c == 'E' || c == 'e') && next == Some('\'') && !word_before(&chars, i))
        {
            let escapes = c != '\'';
            i += if escapes { 2 } else { 1 };
            while i < chars.len() {
                if escapes && chars[i] == '\\' {
                    i += 2;
                } else if chars[i] == '\'' && chars.get(i + 1) == Some(&'\'') {
                    i += 2;
                } else if chars[i] == '\'' {
                    i += 1;
                    break;
                } else {
                    i += 1;
                }
            }
            push(&mut out, "'?'", &mut space);
        } else if c == '$' && !word_before(&chars, i) {
            match dollar_tag(&chars, i) {
                Some(tag) => {
                    let body_start = i + tag.len();
                    let mut j = body_start;
                    while j < chars.len() && !chars[j..].starts_with(&tag) {
                        j += 1;
                    }
                    i = (j + tag.len()).min(chars.len());
                    push(&mut out, "'?'", &mut space);
                }
                None => {
                    push(&mut out, "$", &mut space);
                    i += 1;
                }
            }
        } else if c == '"' {
            let start = i;
            i += 1;
            while i < chars.len() {
                if chars[i] == '"' && chars.get(i + 1) == Some(&'"') {
                    i += 2;
                } else if chars[i] == '"' {
                    i += 1;
                    break;
                } else {
                    i += 1;
                }
            }
            let quoted: String = chars[start..i.min(chars.len())].iter().collect();
            push(&mut out, &quoted, &mut space);
        } else {
            let mut buf = [0u8; 4];
            push(&mut out, c.encode_utf8(&mut buf), &mut space);
            i += 1;
        }
    }
    while out.ends_with(';') || out.ends_with(' ') {
        out.pop();
    }
    out
}

/// Whether the character before `i` continues an identifier (so `e'` or
/// `$` there is not the start of a literal).
fn word_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_' || chars[i - 1] == '$')
}

/// `$tag$` or `$$` starting at `i`.
fn dollar_tag(chars: &[char], i: usize) -> Option<Vec<char>> {
    let mut j = i + 1;
    while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
        if j == i + 1 && chars[j].is_ascii_digit() {
            return None; // $1: a parameter
        }
        j += 1;
    }
    (chars.get(j) == Some(&'$')).then(|| chars[i..=j].to_vec())
}

#[cfg(test)]
mod tests {
    use super::normalise;

    #[test]
    fn string_literals_become_placeholders_and_numbers_stay() {
        assert_eq!(
            normalise(
                "update \"inventory_level\" set \"stocked_quantity\" = 0, \"raw_stocked_quantity\" = '{\"value\":\"0\"}', \"updated_at\" = '2026-11-28T01:02:03.456Z' where \"id\" = 'ilev_01J'"
            ),
            "update \"inventory_level\" set \"stocked_quantity\" = 0, \"raw_stocked_quantity\" = '?', \"updated_at\" = '?' where \"id\" = '?'"
        );
    }

    #[test]
    fn escapes_dollar_quotes_comments_and_whitespace() {
        assert_eq!(
            normalise("SELECT 'it''s',  E'a\\'b'  -- note\n;"),
            "SELECT '?', '?'"
        );
        assert_eq!(
            normalise("SELECT $x$ 'q' $x$, $1 /* c */ FROM t;"),
            "SELECT '?', $1 FROM t"
        );
        assert_eq!(
            normalise("select \"a\"\"b\" from\n\tt"),
            "select \"a\"\"b\" from t"
        );
    }

    #[test]
    fn identifiers_ending_in_e_are_not_escape_strings() {
        assert_eq!(normalise("SELECT name'x' FROM t"), "SELECT name'?' FROM t");
        assert_eq!(normalise("SELECT e'x'"), "SELECT '?'");
    }
}
