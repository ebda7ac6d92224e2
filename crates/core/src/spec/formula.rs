//! A syntax and name check of `scalingModifiers.formula`, as KEDA's webhook compiles it with
//! `expr-lang/expr` (v1.17): the formula is first wrapped the way KEDA wraps it
//! (`castToFloatIfNecessary`), then lexed and parsed with expr's grammar, and every identifier
//! must be a trigger name, an expr builtin, a `let` variable in scope, or `$env`.
//!
//! Errors use expr's format: `message (line:column)` followed by the offending line of the
//! wrapped formula and a caret, e.g.
//! `unknown name cpu_trig (1:7)\n | float(cpu_trig + 1)\n | ......^`. The texts of unknown-name
//! errors and of most parse errors are expr's; expr's type checks and the trial run with every
//! trigger bound to -1 are not reproduced, so a formula that parses but is ill-typed passes here.

/// The builtin functions of expr v1.17 (`builtin/builtin.go`).
pub const EXPR_BUILTINS: &[&str] = &[
    "all",
    "none",
    "any",
    "one",
    "filter",
    "map",
    "find",
    "findIndex",
    "findLast",
    "findLastIndex",
    "count",
    "sum",
    "groupBy",
    "sortBy",
    "reduce",
    "len",
    "type",
    "abs",
    "ceil",
    "floor",
    "round",
    "int",
    "float",
    "string",
    "trim",
    "trimPrefix",
    "trimSuffix",
    "upper",
    "lower",
    "split",
    "splitAfter",
    "replace",
    "repeat",
    "join",
    "indexOf",
    "lastIndexOf",
    "hasPrefix",
    "hasSuffix",
    "max",
    "min",
    "mean",
    "median",
    "toJSON",
    "fromJSON",
    "toBase64",
    "fromBase64",
    "now",
    "duration",
    "date",
    "timezone",
    "first",
    "last",
    "get",
    "take",
    "keys",
    "values",
    "toPairs",
    "fromPairs",
    "reverse",
    "uniq",
    "concat",
    "flatten",
    "sort",
    "bitand",
    "bitor",
    "bitxor",
    "bitnand",
    "bitnot",
    "bitshl",
    "bitshr",
    "bitushr",
];

/// Builtins whose arguments include a predicate (a closure such as `{# > 1}`): the argument kinds,
/// `E` an expression, `P` a predicate, `p`/`e` optional.
const PREDICATE_BUILTINS: &[(&str, &str)] = &[
    ("all", "EP"),
    ("none", "EP"),
    ("any", "EP"),
    ("one", "EP"),
    ("filter", "EP"),
    ("map", "EP"),
    ("count", "Ep"),
    ("sum", "Ep"),
    ("find", "EP"),
    ("findIndex", "EP"),
    ("findLast", "EP"),
    ("findLastIndex", "EP"),
    ("groupBy", "EP"),
    ("sortBy", "EPe"),
    ("reduce", "EPe"),
];

/// KEDA's `castToFloatIfNecessary`.
pub fn cast_to_float_if_necessary(formula: &str) -> String {
    if formula.contains("??") {
        if formula.starts_with("let _kedaCompositeResult = ") {
            return formula.to_string();
        }
        return format!(
            "let _kedaCompositeResult = ({formula}); _kedaCompositeResult == nil ? nil : float(_kedaCompositeResult)"
        );
    }
    if formula.starts_with("float(") {
        return formula.to_string();
    }
    format!("float({formula})")
}

/// Check `formula` as KEDA's webhook compiles it, with `names` (the non-empty names of the
/// non-cpu/memory triggers) as the environment. The error is expr's text.
pub fn check(formula: &str, names: &[&str]) -> Result<(), String> {
    let source = cast_to_float_if_necessary(formula);
    let (tokens, lex_error) = lex(&source);
    let mut p = Parser {
        tokens,
        lex_error,
        pos: 0,
        depth: 0,
        nesting: 0,
        scopes: Vec::new(),
        names,
        unknown: None,
    };
    let parsed = p.parse_sequence().and_then(|()| {
        if p.cur().kind == Kind::Eof {
            Ok(())
        } else {
            Err(p.unexpected())
        }
    });
    match parsed {
        Err(e) => Err(e.format(&source)),
        Ok(()) => match p.unknown {
            Some(e) => Err(e.format(&source)),
            None => Ok(()),
        },
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Debug, Clone)]
struct ExprError {
    message: String,
    /// Rune offset in the source.
    at: usize,
}

impl ExprError {
    /// expr's `file.Error` text: `message (line:col)` plus the source line and a caret.
    fn format(&self, source: &str) -> String {
        let mut line = 1;
        let mut column = 0;
        let mut line_start = 0;
        for (count, (i, c)) in source.char_indices().enumerate() {
            if count == self.at {
                break;
            }
            if c == '\n' {
                line_start = i + 1;
                line += 1;
                column = 0;
            } else {
                column += 1;
            }
        }
        let rest = &source[line_start..];
        let text = rest.split('\n').next().unwrap_or("");
        if text.is_empty() {
            return self.message.clone();
        }
        format!(
            "{} ({line}:{})\n | {}\n | {}^",
            self.message,
            column + 1,
            text.replace('\t', " "),
            ".".repeat(column)
        )
    }
}

// ---------------------------------------------------------------------------------------------
// Lexer

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Identifier,
    Number,
    String,
    Operator,
    Bracket,
    Eof,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    value: String,
    /// Rune offset of the first character.
    from: usize,
}

impl Token {
    fn is(&self, kind: Kind, value: &str) -> bool {
        self.kind == kind && self.value == value
    }

    /// Go's `Token.String()`: `Kind("value")`, or just the kind when the value is empty.
    fn describe(&self) -> String {
        let kind = match self.kind {
            Kind::Identifier => "Identifier",
            Kind::Number => "Number",
            Kind::String => "String",
            Kind::Operator => "Operator",
            Kind::Bracket => "Bracket",
            Kind::Eof => "EOF",
        };
        if self.value.is_empty() {
            kind.to_string()
        } else {
            format!("{kind}({})", super::go::quote(&self.value))
        }
    }
}

fn is_alphabetic(c: char) -> bool {
    c == '_' || c == '$' || c.is_alphabetic()
}

fn is_alphanumeric(c: char) -> bool {
    is_alphabetic(c) || c.is_numeric()
}

/// Tokens up to the first lexing error, which is returned separately (the parser raises it when
/// it reaches that point, as expr's incremental lexer does).
fn lex(source: &str) -> (Vec<Token>, Option<ExprError>) {
    let chars: Vec<char> = source.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let n = chars.len();
    let at = |j: usize| chars.get(j).copied();
    let word_ops = [
        "in",
        "or",
        "and",
        "matches",
        "contains",
        "startsWith",
        "endsWith",
        "let",
        "if",
        "else",
    ];
    macro_rules! push {
        ($kind:expr, $value:expr, $from:expr) => {
            tokens.push(Token {
                kind: $kind,
                value: $value,
                from: $from,
            })
        };
    }
    macro_rules! fail {
        ($msg:expr, $at:expr) => {
            return (
                tokens,
                Some(ExprError {
                    message: $msg.to_string(),
                    at: $at,
                }),
            )
        };
    }
    while i < n {
        let c = chars[i];
        let start = i;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '\''
            || c == '"'
            || ((c == 'b' || c == 'B') && matches!(at(i + 1), Some('\'' | '"')))
        {
            let quote = if c == 'b' || c == 'B' {
                i += 1;
                chars[i]
            } else {
                c
            };
            i += 1;
            let mut value = String::new();
            loop {
                match at(i) {
                    None | Some('\n') => fail!("literal not terminated", i.min(n)),
                    Some(ch) if ch == quote => {
                        i += 1;
                        break;
                    }
                    Some('\\') => {
                        match at(i + 1) {
                            Some(e @ ('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '\\')) => {
                                value.push(e);
                                i += 2;
                            }
                            Some(e) if e == quote => {
                                value.push(e);
                                i += 2;
                            }
                            Some('x' | 'u' | 'U' | '0'..='7') => {
                                // Numeric escapes: consume the digits, keep the text.
                                i += 2;
                                while at(i)
                                    .is_some_and(|d| d.is_ascii_hexdigit() || d == '{' || d == '}')
                                {
                                    i += 1;
                                }
                            }
                            _ => fail!("invalid char escape", i + 1),
                        }
                    }
                    Some(ch) => {
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            push!(Kind::String, value, start);
            continue;
        }
        if c == '`' {
            i += 1;
            let mut value = String::new();
            loop {
                match at(i) {
                    None => fail!("literal not terminated", n),
                    Some('`') if at(i + 1) == Some('`') => {
                        value.push('`');
                        i += 2;
                    }
                    Some('`') => {
                        i += 1;
                        break;
                    }
                    Some(ch) => {
                        value.push(ch);
                        i += 1;
                    }
                }
            }
            push!(Kind::String, value, start);
            continue;
        }
        if c.is_ascii_digit() || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit())) {
            let mut digits: fn(char) -> bool = |d| d.is_ascii_digit() || d == '_';
            if c == '0' {
                match at(i + 1) {
                    Some('x' | 'X') => {
                        digits = |d| d.is_ascii_hexdigit() || d == '_';
                        i += 2;
                    }
                    Some('o' | 'O') => {
                        digits = |d| ('0'..='7').contains(&d) || d == '_';
                        i += 2;
                    }
                    Some('b' | 'B') => {
                        digits = |d| d == '0' || d == '1' || d == '_';
                        i += 2;
                    }
                    _ => {}
                }
            }
            while at(i).is_some_and(digits) {
                i += 1;
            }
            if at(i) == Some('.') && at(i + 1) != Some('.') {
                i += 1;
                while at(i).is_some_and(digits) {
                    i += 1;
                }
            }
            if matches!(at(i), Some('e' | 'E')) {
                i += 1;
                if matches!(at(i), Some('+' | '-')) {
                    i += 1;
                }
                while at(i).is_some_and(digits) {
                    i += 1;
                }
            }
            if at(i).is_some_and(is_alphanumeric) {
                let word: String = chars[start..=i].iter().collect();
                fail!(format!("bad number syntax: {}", super::go::quote(&word)), i);
            }
            push!(Kind::Number, chars[start..i].iter().collect(), start);
            continue;
        }
        if is_alphabetic(c) {
            while at(i).is_some_and(is_alphanumeric) {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if word == "not" {
                push!(Kind::Operator, word, start);
                // `not in`, `not matches`... form one operator pair.
                continue;
            }
            let kind = if word_ops.contains(&word.as_str()) {
                Kind::Operator
            } else {
                Kind::Identifier
            };
            push!(kind, word, start);
            continue;
        }
        i += 1;
        let op: String = match c {
            '?' => {
                if matches!(at(i), Some('.' | '?')) {
                    i += 1;
                }
                chars[start..i].iter().collect()
            }
            '/' if at(i) == Some('/') => {
                while at(i).is_some_and(|ch| ch != '\n') {
                    i += 1;
                }
                continue;
            }
            '/' if at(i) == Some('*') => {
                i += 1;
                loop {
                    match at(i) {
                        None => fail!("unclosed comment", n),
                        Some('*') if at(i + 1) == Some('/') => {
                            i += 2;
                            break;
                        }
                        Some(_) => i += 1,
                    }
                }
                continue;
            }
            '#' => {
                if at(i) == Some('#') {
                    i += 1;
                }
                push!(Kind::Operator, chars[start..i].iter().collect(), start);
                let id_start = i;
                while at(i).is_some_and(is_alphanumeric) {
                    i += 1;
                }
                if i > id_start {
                    push!(
                        Kind::Identifier,
                        chars[id_start..i].iter().collect(),
                        id_start
                    );
                }
                continue;
            }
            '|' | ':' => {
                if at(i) == Some(c) {
                    i += 1;
                }
                chars[start..i].iter().collect()
            }
            '(' | '[' | '{' | ')' | ']' | '}' => {
                push!(Kind::Bracket, c.to_string(), start);
                continue;
            }
            ',' | ';' | '%' | '+' | '-' | '^' | '/' => c.to_string(),
            '&' | '!' | '=' | '*' | '<' | '>' => {
                if matches!(at(i), Some('&' | '=' | '*')) {
                    i += 1;
                }
                chars[start..i].iter().collect()
            }
            '.' => {
                if at(i) == Some('.') {
                    i += 1;
                }
                chars[start..i].iter().collect()
            }
            other => fail!(
                format!("unrecognized character: U+{:04X} '{other}'", other as u32),
                start
            ),
        };
        push!(Kind::Operator, op, start);
    }
    push!(Kind::Eof, String::new(), n);
    (tokens, None)
}

// ---------------------------------------------------------------------------------------------
// Parser (expr's grammar; builds no tree, only checks names)

fn binary_precedence(op: &str) -> Option<(u16, bool)> {
    // (precedence, right-associative)
    Some(match op {
        "|" => (0, false),
        "or" | "||" => (10, false),
        "and" | "&&" => (15, false),
        "==" | "!=" | "<" | ">" | ">=" | "<=" | "in" | "matches" | "contains" | "startsWith"
        | "endsWith" => (20, false),
        ".." => (25, false),
        "+" | "-" => (30, false),
        "*" | "/" | "%" => (60, false),
        "**" | "^" => (100, true),
        "??" => (500, false),
        _ => return None,
    })
}

fn unary_precedence(op: &str) -> Option<u16> {
    match op {
        "not" | "!" => Some(50),
        "-" | "+" => Some(90),
        _ => None,
    }
}

fn is_comparison(op: &str) -> bool {
    matches!(op, "<" | ">" | ">=" | "<=")
}

type PResult = Result<(), ExprError>;

/// Deepest expression nesting accepted (a guard against stack exhaustion; expr itself limits the
/// number of nodes instead).
const MAX_NESTING: usize = 256;

struct Parser<'a> {
    tokens: Vec<Token>,
    lex_error: Option<ExprError>,
    pos: usize,
    /// Predicate (closure) depth: `#` and `.field` are allowed when > 0.
    depth: usize,
    /// Expression nesting, bounded by [`MAX_NESTING`].
    nesting: usize,
    scopes: Vec<String>,
    names: &'a [&'a str],
    unknown: Option<ExprError>,
}

impl Parser<'_> {
    fn cur(&self) -> Token {
        self.tokens.get(self.pos).cloned().unwrap_or_else(|| Token {
            kind: Kind::Eof,
            value: String::new(),
            from: self.tokens.last().map_or(0, |t| t.from),
        })
    }

    fn is(&self, kind: Kind, value: &str) -> bool {
        self.cur().is(kind, value)
    }

    fn error_at(&self, token: &Token, message: String) -> ExprError {
        ExprError {
            message,
            at: token.from,
        }
    }

    fn unexpected(&self) -> ExprError {
        let t = self.cur();
        self.error_at(&t, format!("unexpected token {}", t.describe()))
    }

    fn next(&mut self) -> PResult {
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
            return Ok(());
        }
        if let Some(e) = self.lex_error.take() {
            return Err(e);
        }
        Err(self.error_at(&self.cur(), "unexpected end of expression".into()))
    }

    fn expect(&mut self, kind: Kind, value: Option<&str>) -> PResult {
        let t = self.cur();
        if t.kind == kind && value.is_none_or(|v| t.value == v) {
            self.next()
        } else {
            Err(self.unexpected())
        }
    }

    fn note_identifier(&mut self, t: &Token) {
        let name = t.value.as_str();
        let known = self.scopes.iter().any(|s| s == name)
            || name == "$env"
            || self.names.contains(&name)
            || EXPR_BUILTINS.contains(&name);
        if !known && self.unknown.is_none() {
            self.unknown = Some(self.error_at(t, format!("unknown name {name}")));
        }
    }

    fn parse_sequence(&mut self) -> PResult {
        self.parse_expression(0)?;
        while self.is(Kind::Operator, ";") {
            self.next()?;
            if self.cur().kind == Kind::Eof {
                break;
            }
            self.parse_expression(0)?;
        }
        Ok(())
    }

    fn parse_expression(&mut self, precedence: u16) -> PResult {
        if self.nesting >= MAX_NESTING {
            return Err(self.error_at(&self.cur(), "expression is nested too deeply".into()));
        }
        self.nesting += 1;
        let r = self.parse_expression_inner(precedence);
        self.nesting -= 1;
        r
    }

    fn parse_expression_inner(&mut self, precedence: u16) -> PResult {
        if precedence == 0 && self.is(Kind::Operator, "let") {
            return self.parse_let();
        }
        if precedence == 0 && self.is(Kind::Operator, "if") {
            return self.parse_if();
        }
        self.parse_primary()?;
        let mut prev_op = String::new();
        loop {
            let mut op_token = self.cur();
            if op_token.kind != Kind::Operator {
                break;
            }
            if op_token.value == "not" {
                // `not in`, `not contains`...: only as a binary operator.
                let next = self.tokens.get(self.pos + 1).cloned();
                match next {
                    Some(n)
                        if n.kind == Kind::Operator
                            && matches!(
                                n.value.as_str(),
                                "in" | "matches" | "contains" | "startsWith" | "endsWith"
                            ) =>
                    {
                        if binary_precedence(&n.value).is_some_and(|(p, _)| p >= precedence) {
                            self.next()?;
                            op_token = n;
                        } else {
                            break;
                        }
                    }
                    Some(n) => {
                        return Err(self.error_at(&n, format!("unexpected token {}", n.describe())));
                    }
                    None => return Err(self.unexpected()),
                }
            }
            let Some((op_prec, right)) = binary_precedence(&op_token.value) else {
                break;
            };
            if op_prec < precedence {
                break;
            }
            self.next()?;
            if op_token.value == "|" {
                let ident = self.cur();
                self.expect(Kind::Identifier, None)?;
                self.parse_call(&ident, 1)?;
            } else {
                if prev_op == "??" && op_token.value != "??" {
                    return Err(self.error_at(
                        &op_token,
                        format!(
                            "Operator ({}) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses.",
                            op_token.value
                        ),
                    ));
                }
                if is_comparison(&op_token.value) {
                    self.parse_comparison(op_prec)?;
                } else if right {
                    self.parse_expression(op_prec)?;
                } else {
                    self.parse_expression(op_prec + 1)?;
                }
            }
            prev_op = op_token.value.clone();
        }
        if precedence == 0 {
            self.parse_conditional()?;
        }
        Ok(())
    }

    fn parse_comparison(&mut self, precedence: u16) -> PResult {
        loop {
            self.parse_expression(precedence + 1)?;
            let t = self.cur();
            if !(t.kind == Kind::Operator && is_comparison(&t.value)) {
                return Ok(());
            }
            self.next()?;
        }
    }

    fn parse_let(&mut self) -> PResult {
        self.expect(Kind::Operator, Some("let"))?;
        let name = self.cur();
        self.expect(Kind::Identifier, None)?;
        self.expect(Kind::Operator, Some("="))?;
        self.parse_expression(0)?;
        self.expect(Kind::Operator, Some(";"))?;
        self.scopes.push(name.value);
        let r = self.parse_sequence();
        self.scopes.pop();
        r
    }

    fn parse_if(&mut self) -> PResult {
        self.next()?;
        self.parse_expression(0)?;
        self.expect(Kind::Bracket, Some("{"))?;
        self.parse_sequence()?;
        self.expect(Kind::Bracket, Some("}"))?;
        self.expect(Kind::Operator, Some("else"))?;
        if self.is(Kind::Operator, "if") {
            self.parse_if()
        } else {
            self.expect(Kind::Bracket, Some("{"))?;
            self.parse_sequence()?;
            self.expect(Kind::Bracket, Some("}"))
        }
    }

    fn parse_conditional(&mut self) -> PResult {
        while self.is(Kind::Operator, "?") {
            self.next()?;
            if self.is(Kind::Operator, ":") {
                self.next()?;
                self.parse_expression(0)?;
            } else {
                self.parse_expression(0)?;
                self.expect(Kind::Operator, Some(":"))?;
                self.parse_expression(0)?;
            }
        }
        Ok(())
    }

    fn parse_primary(&mut self) -> PResult {
        let t = self.cur();
        if t.kind == Kind::Operator
            && let Some(p) = unary_precedence(&t.value)
        {
            self.next()?;
            self.parse_expression(p)?;
            return self.parse_postfix();
        }
        if t.is(Kind::Bracket, "(") {
            self.next()?;
            self.parse_sequence()?;
            self.expect(Kind::Bracket, Some(")"))?;
            return self.parse_postfix();
        }
        if self.depth > 0 && (t.is(Kind::Operator, "#") || t.is(Kind::Operator, ".")) {
            if t.value == "#" {
                self.next()?;
                if self.cur().kind == Kind::Identifier {
                    self.next()?;
                }
            }
            return self.parse_postfix();
        }
        if t.is(Kind::Operator, "::") {
            self.next()?;
            let name = self.cur();
            self.expect(Kind::Identifier, None)?;
            self.parse_call(&name, 0)?;
            return self.parse_postfix();
        }
        self.parse_secondary()
    }

    fn parse_secondary(&mut self) -> PResult {
        let t = self.cur();
        match t.kind {
            Kind::Identifier => {
                self.next()?;
                match t.value.as_str() {
                    "true" | "false" | "nil" => return Ok(()),
                    _ => {
                        if self.is(Kind::Bracket, "(") {
                            self.parse_call(&t, 0)?;
                        } else {
                            self.note_identifier(&t);
                        }
                    }
                }
            }
            Kind::Number => {
                self.next()?;
                return Ok(());
            }
            Kind::String => {
                self.next()?;
            }
            _ if t.is(Kind::Bracket, "[") => self.parse_array()?,
            _ if t.is(Kind::Bracket, "{") => self.parse_map()?,
            _ => return Err(self.unexpected()),
        }
        self.parse_postfix()
    }

    /// A call of `name` (current token: `(`); `pre_args` arguments come from a pipe.
    fn parse_call(&mut self, name: &Token, pre_args: usize) -> PResult {
        if let Some((_, spec)) = PREDICATE_BUILTINS.iter().find(|(n, _)| *n == name.value) {
            self.expect(Kind::Bracket, Some("("))?;
            let args: Vec<char> = spec.chars().skip(pre_args).collect();
            for (i, arg) in args.iter().enumerate() {
                let optional = arg.is_lowercase();
                if self.is(Kind::Bracket, ")") {
                    if optional {
                        break;
                    }
                    return Err(self.error_at(
                        &self.cur(),
                        format!("expected at least {} arguments", args.len()),
                    ));
                }
                if i > 0 {
                    self.expect(Kind::Operator, Some(","))?;
                }
                if arg.eq_ignore_ascii_case(&'P') {
                    self.parse_predicate()?;
                } else {
                    self.parse_expression(0)?;
                }
            }
            if self.is(Kind::Operator, ",") {
                self.next()?;
            }
            return self.expect(Kind::Bracket, Some(")"));
        }
        if !EXPR_BUILTINS.contains(&name.value.as_str()) {
            self.note_identifier(name);
        }
        self.parse_arguments(pre_args)
    }

    fn parse_arguments(&mut self, offset: usize) -> PResult {
        self.expect(Kind::Bracket, Some("("))?;
        let mut count = offset;
        while !self.is(Kind::Bracket, ")") {
            if count > offset {
                self.expect(Kind::Operator, Some(","))?;
            }
            if self.is(Kind::Bracket, ")") {
                break;
            }
            self.parse_expression(0)?;
            count += 1;
        }
        self.expect(Kind::Bracket, Some(")"))
    }

    fn parse_predicate(&mut self) -> PResult {
        let brackets = self.is(Kind::Bracket, "{");
        if brackets {
            self.next()?;
        }
        self.depth += 1;
        let r = if brackets {
            self.parse_sequence()
        } else {
            self.parse_expression(0).and_then(|()| {
                if self.is(Kind::Operator, ";") {
                    Err(self.error_at(&self.cur(), "wrap predicate with brackets { and }".into()))
                } else {
                    Ok(())
                }
            })
        };
        self.depth -= 1;
        r?;
        if brackets {
            self.expect(Kind::Bracket, Some("}"))?;
        }
        Ok(())
    }

    fn parse_array(&mut self) -> PResult {
        self.expect(Kind::Bracket, Some("["))?;
        let mut count = 0;
        while !self.is(Kind::Bracket, "]") {
            if count > 0 {
                self.expect(Kind::Operator, Some(","))?;
                if self.is(Kind::Bracket, "]") {
                    break;
                }
            }
            self.parse_expression(0)?;
            count += 1;
        }
        self.expect(Kind::Bracket, Some("]"))
    }

    fn parse_map(&mut self) -> PResult {
        self.expect(Kind::Bracket, Some("{"))?;
        let mut count = 0;
        while !self.is(Kind::Bracket, "}") {
            if count > 0 {
                self.expect(Kind::Operator, Some(","))?;
                if self.is(Kind::Bracket, "}") {
                    break;
                }
                if self.is(Kind::Operator, ",") {
                    return Err(self.unexpected());
                }
            }
            let key = self.cur();
            if matches!(key.kind, Kind::Number | Kind::String | Kind::Identifier) {
                self.next()?;
            } else if key.is(Kind::Bracket, "(") {
                self.parse_expression(0)?;
            } else {
                return Err(self.error_at(
                    &key,
                    format!(
                        "a map key must be a quoted string, a number, a identifier, or an expression enclosed in parentheses (unexpected token {})",
                        key.describe()
                    ),
                ));
            }
            self.expect(Kind::Operator, Some(":"))?;
            self.parse_expression(0)?;
            count += 1;
        }
        self.expect(Kind::Bracket, Some("}"))
    }

    fn parse_postfix(&mut self) -> PResult {
        loop {
            let t = self.cur();
            if !matches!(t.kind, Kind::Operator | Kind::Bracket) {
                return Ok(());
            }
            let optional = t.value == "?.";
            if t.value == "." || optional {
                self.next()?;
                let prop = self.cur();
                if optional && prop.is(Kind::Bracket, "[") {
                    self.parse_index()?;
                    continue;
                }
                self.next()?;
                let word = prop.kind == Kind::Operator
                    && prop.value.chars().next().is_some_and(is_alphabetic)
                    && prop.value.chars().all(is_alphanumeric);
                if prop.kind != Kind::Identifier && !word {
                    return Err(self.error_at(&self.cur(), "expected name".into()));
                }
                if self.is(Kind::Bracket, "(") {
                    self.parse_arguments(0)?;
                }
            } else if t.value == "[" {
                self.parse_index()?;
            } else {
                return Ok(());
            }
        }
    }

    /// `[i]`, `[a:b]`, `[:b]`, `[a:]`, `[:]` (current token: `[`).
    fn parse_index(&mut self) -> PResult {
        self.next()?;
        if self.is(Kind::Operator, ":") {
            self.next()?;
            if !self.is(Kind::Bracket, "]") {
                self.parse_expression(0)?;
            }
            return self.expect(Kind::Bracket, Some("]"));
        }
        self.parse_expression(0)?;
        if self.is(Kind::Operator, ":") {
            self.next()?;
            if !self.is(Kind::Bracket, "]") {
                self.parse_expression(0)?;
            }
        }
        self.expect(Kind::Bracket, Some("]"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NAMES: &[&str] = &["workload_trig", "cron_trig", "trig_one", "trig_two"];

    #[test]
    fn keda_webhook_formulas_are_accepted() {
        for f in [
            "workload_trig + cron_trig",
            "workload_trig + 1",
            "float(workload_trig + 1)",
            "float(workload_trig < 5 ? cron_trig + workload_trig : 5)",
            "workload_trig < 5 ? cron_trig + workload_trig : 5",
            "count([trig_one,trig_two],{#>1}) > 1 ? 5 : 0",
            "float(trig_one < 2 ? trig_one+trig_two >= 2 ? 5 : 10 : 0)",
            "float(float(trig_two < 5 ? trig_one + trig_two : 5))",
            "trig_one ?? trig_two ?? 5",
            "trig_one ?? 5",
            "(trig_one + trig_two) / 2",
            "max(trig_one, trig_two) ** 2 % 3",
            "let x = trig_one * 2; x + trig_two",
            "trig_one > 1 && trig_two < 2 ? 1 : 0",
            "trig_one not in [1, 2] ? 1 : 0",
            "1 < trig_one < 3 ? 1 : 0",
            "sum([trig_one, trig_two], # * 2)",
            "reduce([trig_one, trig_two], #acc + #, 0)",
            "[trig_one, trig_two] | max()",
            "abs(-trig_one) + 1_000 + 0x1F + 1e3 + .5",
            "{a: trig_one}.a",
            "if trig_one > 1 { 2 } else { 3 }",
            "// comment\ntrig_one",
        ] {
            assert_eq!(check(f, NAMES), Ok(()), "{f}");
        }
    }

    #[test]
    fn unknown_names_use_exprs_message() {
        assert_eq!(
            check("workload_trig + cron_trig", &[]),
            Err(
                "unknown name workload_trig (1:7)\n | float(workload_trig + cron_trig)\n | ......^"
                    .into()
            )
        );
        assert_eq!(
            check("trig_one + nope", NAMES),
            Err(
                "unknown name nope (1:18)\n | float(trig_one + nope)\n | .................^".into()
            )
        );
        assert_eq!(
            check("foo(trig_one)", NAMES),
            Err("unknown name foo (1:7)\n | float(foo(trig_one))\n | ......^".into())
        );
        // `??` formulas are wrapped in a `let`.
        assert_eq!(
            check("a ?? 1", NAMES),
            Err("unknown name a (1:29)\n | let _kedaCompositeResult = (a ?? 1); _kedaCompositeResult == nil ? nil : float(_kedaCompositeResult)\n | ............................^".into())
        );
    }

    #[test]
    fn syntax_errors_use_exprs_message() {
        assert_eq!(
            check("trig_one +", NAMES),
            Err("unexpected token Bracket(\")\") (1:17)\n | float(trig_one +)\n | ................^".into())
        );
        assert_eq!(
            check("trig_one ?? 1 + 2", NAMES).map_err(|e| e.lines().next().map(str::to_string)),
            Err(Some(
                "Operator (+) and coalesce expressions (??) cannot be mixed. Wrap either by parentheses. (1:43)".into()
            ))
        );
        assert!(check("'open", NAMES).is_err_and(|e| e.starts_with("literal not terminated")));
        assert!(
            check("trig_one @ 2", NAMES).is_err_and(|e| e.starts_with("unrecognized character"))
        );
        assert!(
            check("# > 1", NAMES).is_err_and(|e| e.starts_with("unexpected token Operator(\"#\")"))
        );
        assert!(check("1abc", NAMES).is_err_and(|e| e.starts_with("bad number syntax: \"1a\"")));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let deep = format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000));
        assert!(
            check(&deep, NAMES).is_err_and(|e| e.starts_with("expression is nested too deeply"))
        );
        let unary = format!("{}1", "-".repeat(100_000));
        assert!(check(&unary, NAMES).is_err());
        let ok = format!("{}1{}", "(".repeat(50), ")".repeat(50));
        assert_eq!(check(&ok, NAMES), Ok(()));
    }

    #[test]
    fn wrapping_follows_keda() {
        assert_eq!(cast_to_float_if_necessary("a + b"), "float(a + b)");
        assert_eq!(cast_to_float_if_necessary("float(a) + b"), "float(a) + b");
        assert_eq!(
            cast_to_float_if_necessary("a ?? b"),
            "let _kedaCompositeResult = (a ?? b); _kedaCompositeResult == nil ? nil : float(_kedaCompositeResult)"
        );
    }
}
