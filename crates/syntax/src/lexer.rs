//! The one tokenizer of tunnelform's HCL: what the parser-independent passes need to see of a
//! file (the formatter, the entry-by-entry parsing of big objects, and the location of syntax
//! errors hcl-edit reports at an unhelpful place).
//!
//! Tokens carry byte offsets into the source. Whitespace other than line breaks is skipped;
//! comments, strings (templates included) and heredocs are single tokens, so nothing inside
//! them is ever mistaken for structure. The lexer accepts any text: an unterminated string or
//! heredoc is a token marked as such.

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// `\n`.
    Newline,
    /// `# ...` or `// ...` up to the end of its line (the line break excluded), or `/* ... */`.
    Comment,
    /// A quoted string with its quotes, interpolations and directives included. Not
    /// `terminated`: it runs to the end of its line (or of the text) without a closing quote.
    Str { terminated: bool },
    /// `<<EOT` or `<<-EOT`, then the lines of its body up to and including the delimiter line
    /// (its line break excluded). `header_end`: the end of `<<EOT`; `body_start`: the start of
    /// the line after it. Not `terminated`: no line holds only the delimiter.
    Heredoc {
        header_end: usize,
        body_start: usize,
        terminated: bool,
    },
    /// A name: a letter or `_`, then letters, digits, `_` and `-`.
    Ident,
    /// `1`, `1.5`, `1e3`, `2.5E-4`.
    Number,
    /// `...`, a two-character operator (`=>`, `==`, `!=`, `<=`, `>=`, `&&`, `||`, `::`) or any
    /// other single character.
    Punct,
}

/// One token: its kind and its byte range in the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: TokenKind,
    pub start: usize,
    pub end: usize,
}

impl Token {
    /// The token's text.
    pub fn text<'s>(&self, src: &'s str) -> &'s str {
        &src[self.start..self.end]
    }

    pub fn is_punct(&self, src: &str, p: &str) -> bool {
        self.kind == TokenKind::Punct && self.text(src) == p
    }
}

const TWO_CHAR_OPERATORS: &[&str] = &["=>", "==", "!=", "<=", ">=", "&&", "||", "::"];

fn is_id_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_id_continue(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '-'
}

/// Splits `src` into tokens (see the module documentation).
pub fn tokenize(src: &str) -> Vec<Token> {
    let b = src.as_bytes();
    let n = b.len();
    let mut out = Vec::new();
    let mut i = 0;
    while i < n {
        let Some(c) = src[i..].chars().next() else {
            break;
        };
        let start = i;
        let kind = match c {
            '\n' => {
                i += 1;
                TokenKind::Newline
            }
            ' ' | '\t' | '\r' | '\u{feff}' => {
                i += c.len_utf8();
                continue;
            }
            '#' => {
                i = line_end(b, i);
                TokenKind::Comment
            }
            '/' if b.get(i + 1) == Some(&b'/') => {
                i = line_end(b, i);
                TokenKind::Comment
            }
            '/' if b.get(i + 1) == Some(&b'*') => {
                i = src[i + 2..].find("*/").map(|p| i + 2 + p + 2).unwrap_or(n);
                TokenKind::Comment
            }
            '"' => {
                let (end, terminated) = string_end(b, i);
                i = end;
                TokenKind::Str { terminated }
            }
            '<' if b.get(i + 1) == Some(&b'<') => match heredoc(src, i) {
                Some((kind, end)) => {
                    i = end;
                    kind
                }
                None => {
                    i += 1;
                    TokenKind::Punct
                }
            },
            c if c.is_ascii_digit() => {
                i = number_end(b, i);
                TokenKind::Number
            }
            c if is_id_start(c) => {
                i += c.len_utf8();
                while let Some(c) = src[i..].chars().next().filter(|c| is_id_continue(*c)) {
                    i += c.len_utf8();
                }
                TokenKind::Ident
            }
            c => {
                if src[i..].starts_with("...") {
                    i += 3;
                } else if TWO_CHAR_OPERATORS.iter().any(|op| src[i..].starts_with(op)) {
                    i += 2;
                } else {
                    i += c.len_utf8();
                }
                TokenKind::Punct
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    out
}

fn line_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i] != b'\n' {
        i += 1;
    }
    i
}

fn number_end(b: &[u8], mut i: usize) -> usize {
    let n = b.len();
    let digits = |mut i: usize| {
        while i < n && b[i].is_ascii_digit() {
            i += 1;
        }
        i
    };
    i = digits(i);
    if i + 1 < n && b[i] == b'.' && b[i + 1].is_ascii_digit() {
        i = digits(i + 1);
    }
    if i < n && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < n && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < n && b[j].is_ascii_digit() {
            i = digits(j);
        }
    }
    i
}

/// The end of the string starting with the quote at `i`: just past its closing quote, or at
/// the line break (or the end of the text) that leaves it unterminated.
fn string_end(b: &[u8], mut i: usize) -> (usize, bool) {
    let n = b.len();
    i += 1;
    while i < n {
        match b[i] {
            b'\\' => i += 2,
            b'"' => return (i + 1, true),
            b'\n' => return (i, false),
            // `$${` and `%%{` are escapes, not interpolations.
            b'$' | b'%' if b.get(i + 1) == Some(&b[i]) && b.get(i + 2) == Some(&b'{') => i += 3,
            b'$' | b'%' if b.get(i + 1) == Some(&b'{') => i = interpolation_end(b, i + 2),
            _ => i += 1,
        }
    }
    (n, false)
}

/// Just past the `}` that closes an interpolation or directive whose content starts at `i`.
fn interpolation_end(b: &[u8], mut i: usize) -> usize {
    let n = b.len();
    let mut depth = 1usize;
    while i < n {
        match b[i] {
            b'"' => i = string_end(b, i).0,
            b'{' => {
                depth += 1;
                i += 1;
            }
            b'}' => {
                depth -= 1;
                i += 1;
                if depth == 0 {
                    return i;
                }
            }
            _ => i += 1,
        }
    }
    n
}

/// A heredoc starting with the `<<` at `i`: its kind and end. None when `<<` is not followed by
/// a delimiter and a line break.
fn heredoc(src: &str, i: usize) -> Option<(TokenKind, usize)> {
    let b = src.as_bytes();
    let n = b.len();
    let mut j = i + 2;
    if b.get(j) == Some(&b'-') {
        j += 1;
    }
    let delim_start = j;
    while let Some(c) = src[j..].chars().next().filter(|c| is_id_continue(*c)) {
        j += c.len_utf8();
    }
    let delim = &src[delim_start..j];
    let mut k = j;
    while k < n && matches!(b[k], b' ' | b'\t' | b'\r') {
        k += 1;
    }
    if delim.is_empty() || k >= n || b[k] != b'\n' {
        return None;
    }
    let body_start = k + 1;
    let mut line_start = body_start;
    while line_start < n {
        let e = line_end(b, line_start);
        if src[line_start..e].trim() == delim {
            let kind = TokenKind::Heredoc {
                header_end: j,
                body_start,
                terminated: true,
            };
            return Some((kind, e));
        }
        line_start = e + 1;
    }
    let kind = TokenKind::Heredoc {
        header_end: j,
        body_start,
        terminated: false,
    };
    Some((kind, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds_and_texts(src: &str) -> Vec<(TokenKind, &str)> {
        tokenize(src)
            .into_iter()
            .map(|t| (t.kind, t.text(src)))
            .collect()
    }

    #[test]
    fn names_numbers_operators_and_comments() {
        use TokenKind::*;
        assert_eq!(
            kinds_and_texts("a-b = x[0].y >= 1.5e3 # c\n// d\n/* e\n */ f...\n"),
            [
                (Ident, "a-b"),
                (Punct, "="),
                (Ident, "x"),
                (Punct, "["),
                (Number, "0"),
                (Punct, "]"),
                (Punct, "."),
                (Ident, "y"),
                (Punct, ">="),
                (Number, "1.5e3"),
                (Comment, "# c"),
                (Newline, "\n"),
                (Comment, "// d"),
                (Newline, "\n"),
                (Comment, "/* e\n */"),
                (Ident, "f"),
                (Punct, "..."),
                (Newline, "\n"),
            ]
        );
        assert_eq!(
            kinds_and_texts("é = 1"),
            [(Ident, "é"), (Punct, "="), (Number, "1")]
        );
    }

    #[test]
    fn strings_keep_their_templates() {
        let src = "a = \"x ${f(\"}\")} $${y} %{ if z }q%{ endif }\" # \"no\"\n";
        let t = tokenize(src);
        assert_eq!(t[2].kind, TokenKind::Str { terminated: true });
        assert_eq!(
            t[2].text(src),
            "\"x ${f(\"}\")} $${y} %{ if z }q%{ endif }\""
        );
        assert_eq!(t[3].kind, TokenKind::Comment);
        let src = "a = \"open\nb = 1\n";
        let t = tokenize(src);
        assert_eq!(t[2].kind, TokenKind::Str { terminated: false });
        assert_eq!(t[2].text(src), "\"open");
        assert_eq!(t[3].kind, TokenKind::Newline);
    }

    #[test]
    fn heredocs_are_one_token() {
        let src = "a = <<-EOT\n  x = \"\n  EOT\nb = 1\n";
        let t = tokenize(src);
        let TokenKind::Heredoc {
            header_end,
            body_start,
            terminated: true,
        } = t[2].kind
        else {
            panic!("{t:?}")
        };
        assert_eq!(&src[t[2].start..header_end], "<<-EOT");
        assert_eq!(&src[body_start..t[2].end], "  x = \"\n  EOT");
        assert_eq!(t[3].kind, TokenKind::Newline);
        assert_eq!(t[4].text(src), "b");
        let t = tokenize("a = <<EOT\nnever closed\n");
        assert!(matches!(
            t[2].kind,
            TokenKind::Heredoc {
                terminated: false,
                ..
            }
        ));
        // `<<` without a delimiter and a line break is two operators.
        assert_eq!(
            kinds_and_texts("a << b"),
            [
                (TokenKind::Ident, "a"),
                (TokenKind::Punct, "<"),
                (TokenKind::Punct, "<"),
                (TokenKind::Ident, "b")
            ]
        );
    }
}
