//! `$filter` as the Service Layer supports it (GUIDE p.32, p.185): comparisons `eq ne gt ge lt
//! le`, `and or not`, parentheses, and the string functions `startswith endswith contains
//! substringof`. No arithmetic and no lambda operators: `DocumentLines/any(...)` is refused as
//! "Invalid symbol", as two public integrations report SAP doing (reference §6).
//!
//! Grammar (recursive descent, lowest precedence first):
//! ```text
//! or      := and ("or" and)*
//! and     := unary ("and" unary)*
//! unary   := "not" unary | primary
//! primary := "(" or ")" | call [("eq"|"ne") bool] | operand cmp operand
//! call    := func "(" operand "," operand ")"
//! operand := property | 'string' | datetime'…' | number | true | false | null
//! ```
use rust_decimal::Decimal;
use std::str::FromStr;

/// A parsed `$filter`.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare(Operand, CmpOp, Operand),
    /// A string function, normalised to (haystack, needle).
    Call(StringFn, Operand, Operand),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StringFn {
    StartsWith,
    EndsWith,
    Contains,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Operand {
    Property(String),
    Literal(Literal),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Null,
    Bool(bool),
    Number(Decimal),
    String(String),
}

/// Why a `$filter` was refused; the text goes into the -1000 error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct FilterError(pub String);

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Open,
    Close,
    Comma,
    Word(String),
    Str(String),
    Num(Decimal),
}

fn tokenize(input: &str) -> Result<Vec<Token>, FilterError> {
    let chars: Vec<char> = input.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            _ if c.is_whitespace() => i += 1,
            '(' => {
                tokens.push(Token::Open);
                i += 1;
            }
            ')' => {
                tokens.push(Token::Close);
                i += 1;
            }
            ',' => {
                tokens.push(Token::Comma);
                i += 1;
            }
            '\'' => {
                let (text, next) = quoted(&chars, i)?;
                tokens.push(Token::Str(text));
                i = next;
            }
            _ if c.is_ascii_digit()
                || (c == '-' && chars.get(i + 1).is_some_and(char::is_ascii_digit)) =>
            {
                let start = i;
                i += 1;
                while i < chars.len() && (chars[i].is_ascii_digit() || chars[i] == '.') {
                    i += 1;
                }
                let text: String = chars[start..i].iter().collect();
                // OData type suffixes: 1.5m (decimal), 1.5d (double), 10L (long).
                if i < chars.len()
                    && matches!(chars[i], 'm' | 'M' | 'd' | 'D' | 'L' | 'l' | 'f' | 'F')
                {
                    i += 1;
                }
                let n = Decimal::from_str(&text).map_err(|_| {
                    FilterError(format!("Invalid number '{text}' in the filter condition"))
                })?;
                tokens.push(Token::Num(n));
            }
            _ if c.is_alphabetic() || c == '_' => {
                let start = i;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                // `datetime'2014-04-23'` is a date literal: keep the text, B1 compares it as a date.
                if word == "datetime" && chars.get(i) == Some(&'\'') {
                    let (text, next) = quoted(&chars, i)?;
                    tokens.push(Token::Str(text));
                    i = next;
                } else {
                    tokens.push(Token::Word(word));
                }
            }
            _ => {
                return Err(FilterError(format!(
                    "Invalid symbol '{c}' in the filter condition"
                )))
            }
        }
    }
    Ok(tokens)
}

/// A single-quoted literal starting at `start`; `''` stands for one quote.
fn quoted(chars: &[char], start: usize) -> Result<(String, usize), FilterError> {
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        match chars.get(i) {
            None => {
                return Err(FilterError(
                    "Unterminated string literal in the filter condition".into(),
                ))
            }
            Some('\'') if chars.get(i + 1) == Some(&'\'') => {
                text.push('\'');
                i += 2;
            }
            Some('\'') => return Ok((text, i + 1)),
            Some(c) => {
                text.push(*c);
                i += 1;
            }
        }
    }
}

/// Parses a whole `$filter` value.
pub fn parse(input: &str) -> Result<Expr, FilterError> {
    let mut parser = Parser {
        tokens: tokenize(input)?,
        pos: 0,
    };
    let expr = parser.or()?;
    match parser.peek() {
        None => Ok(expr),
        Some(t) => Err(FilterError(format!(
            "Unexpected {} in the filter condition",
            describe(t)
        ))),
    }
}

fn describe(t: &Token) -> String {
    match t {
        Token::Open => "'('".into(),
        Token::Close => "')'".into(),
        Token::Comma => "','".into(),
        Token::Word(w) => format!("'{w}'"),
        Token::Str(s) => format!("string '{s}'"),
        Token::Num(n) => format!("number {n}"),
    }
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn peek_word(&self, word: &str) -> bool {
        matches!(self.peek(), Some(Token::Word(w)) if w == word)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn expect(&mut self, want: Token) -> Result<(), FilterError> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            Some(t) => Err(FilterError(format!(
                "Expected {} but found {} in the filter condition",
                describe(&want),
                describe(&t)
            ))),
            None => Err(FilterError(format!(
                "Expected {} at the end of the filter condition",
                describe(&want)
            ))),
        }
    }

    fn or(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.and()?;
        while self.peek_word("or") {
            self.pos += 1;
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, FilterError> {
        let mut left = self.unary()?;
        while self.peek_word("and") {
            self.pos += 1;
            left = Expr::And(Box::new(left), Box::new(self.unary()?));
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, FilterError> {
        if self.peek_word("not") {
            self.pos += 1;
            return Ok(Expr::Not(Box::new(self.unary()?)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, FilterError> {
        if self.peek() == Some(&Token::Open) {
            self.pos += 1;
            let inner = self.or()?;
            self.expect(Token::Close)?;
            return Ok(inner);
        }
        if let Some(Token::Word(w)) = self.peek() {
            let func = match w.as_str() {
                "startswith" => Some((StringFn::StartsWith, false)),
                "endswith" => Some((StringFn::EndsWith, false)),
                "contains" => Some((StringFn::Contains, false)),
                // substringof(needle, haystack): arguments the other way round.
                "substringof" => Some((StringFn::Contains, true)),
                _ => None,
            };
            if let Some((func, swapped)) = func {
                if self.tokens.get(self.pos + 1) == Some(&Token::Open) {
                    self.pos += 2;
                    return self.call(func, swapped);
                }
            }
            if self.tokens.get(self.pos + 1) == Some(&Token::Open) {
                return Err(FilterError(format!(
                    "Invalid symbol: function '{w}' is not supported in the filter condition"
                )));
            }
        }
        let left = self.operand()?;
        let op = self.comparison()?;
        let right = self.operand()?;
        Ok(Expr::Compare(left, op, right))
    }

    fn call(&mut self, func: StringFn, swapped: bool) -> Result<Expr, FilterError> {
        let first = self.operand()?;
        self.expect(Token::Comma)?;
        let second = self.operand()?;
        self.expect(Token::Close)?;
        let (haystack, needle) = if swapped {
            (second, first)
        } else {
            (first, second)
        };
        let call = Expr::Call(func, haystack, needle);
        // `startswith(A,'x') eq true` is the OData v3 spelling of the same condition.
        let negate = match self.peek() {
            Some(Token::Word(w)) if w == "eq" || w == "ne" => {
                let ne = w == "ne";
                self.pos += 1;
                match self.next() {
                    Some(Token::Word(b)) if b == "true" => ne,
                    Some(Token::Word(b)) if b == "false" => !ne,
                    _ => {
                        return Err(FilterError(
                            "A string function can only be compared with true or false".into(),
                        ))
                    }
                }
            }
            _ => false,
        };
        Ok(if negate {
            Expr::Not(Box::new(call))
        } else {
            call
        })
    }

    fn comparison(&mut self) -> Result<CmpOp, FilterError> {
        let op = match self.next() {
            Some(Token::Word(w)) => match w.as_str() {
                "eq" => CmpOp::Eq,
                "ne" => CmpOp::Ne,
                "gt" => CmpOp::Gt,
                "ge" => CmpOp::Ge,
                "lt" => CmpOp::Lt,
                "le" => CmpOp::Le,
                other => {
                    return Err(FilterError(format!(
                        "Invalid symbol: '{other}' is not a comparison operator"
                    )))
                }
            },
            Some(t) => {
                return Err(FilterError(format!(
                    "Expected a comparison operator but found {}",
                    describe(&t)
                )))
            }
            None => return Err(FilterError("Incomplete filter condition".into())),
        };
        Ok(op)
    }

    fn operand(&mut self) -> Result<Operand, FilterError> {
        match self.next() {
            Some(Token::Str(s)) => Ok(Operand::Literal(Literal::String(s))),
            Some(Token::Num(n)) => Ok(Operand::Literal(Literal::Number(n))),
            Some(Token::Word(w)) => Ok(match w.as_str() {
                "null" => Operand::Literal(Literal::Null),
                "true" => Operand::Literal(Literal::Bool(true)),
                "false" => Operand::Literal(Literal::Bool(false)),
                "and" | "or" | "not" | "eq" | "ne" | "gt" | "ge" | "lt" | "le" => {
                    return Err(FilterError(format!(
                        "Unexpected '{w}' in the filter condition"
                    )))
                }
                _ => Operand::Property(w),
            }),
            Some(t) => Err(FilterError(format!(
                "Unexpected {} in the filter condition",
                describe(&t)
            ))),
            None => Err(FilterError("Incomplete filter condition".into())),
        }
    }
}

impl Expr {
    /// Every property the expression reads, so the caller can refuse unknown names.
    pub fn properties(&self) -> Vec<&str> {
        fn operand<'a>(o: &'a Operand, out: &mut Vec<&'a str>) {
            if let Operand::Property(p) = o {
                out.push(p);
            }
        }
        fn walk<'a>(e: &'a Expr, out: &mut Vec<&'a str>) {
            match e {
                Expr::Or(a, b) | Expr::And(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Not(a) => walk(a, out),
                Expr::Compare(l, _, r) | Expr::Call(_, l, r) => {
                    operand(l, out);
                    operand(r, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self, &mut out);
        out
    }

    /// The strings one of which `property` must equal for the whole expression to hold
    /// (`property eq 'x'`, an `or` of such, possibly inside `and`s); lets a store use an index.
    pub fn required_values(&self, property: &str) -> Option<Vec<&str>> {
        match self {
            Expr::And(a, b) => a
                .required_values(property)
                .or_else(|| b.required_values(property)),
            Expr::Or(a, b) => {
                let mut values = a.required_values(property)?;
                values.extend(b.required_values(property)?);
                Some(values)
            }
            _ => self.required_equality(property).map(|v| vec![v]),
        }
    }

    /// The string `property` must equal for the whole expression to hold (a top-level
    /// `property eq 'x'`, possibly inside `and`s); lets a store use an index.
    pub fn required_equality(&self, property: &str) -> Option<&str> {
        match self {
            Expr::And(a, b) => a
                .required_equality(property)
                .or_else(|| b.required_equality(property)),
            Expr::Compare(
                Operand::Property(p),
                CmpOp::Eq,
                Operand::Literal(Literal::String(s)),
            )
            | Expr::Compare(
                Operand::Literal(Literal::String(s)),
                CmpOp::Eq,
                Operand::Property(p),
            ) if p == property => Some(s),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn prop(p: &str) -> Operand {
        Operand::Property(p.into())
    }
    fn text(s: &str) -> Operand {
        Operand::Literal(Literal::String(s.into()))
    }
    fn cmp(p: &str, op: CmpOp, o: Operand) -> Expr {
        Expr::Compare(prop(p), op, o)
    }

    #[test]
    fn and_binds_tighter_than_or() {
        let e = parse("A eq 'x' or B eq 'y' and C eq 'z'").unwrap();
        assert_eq!(
            e,
            Expr::Or(
                Box::new(cmp("A", CmpOp::Eq, text("x"))),
                Box::new(Expr::And(
                    Box::new(cmp("B", CmpOp::Eq, text("y"))),
                    Box::new(cmp("C", CmpOp::Eq, text("z")))
                ))
            )
        );
    }

    #[test]
    fn parentheses_and_not_override_precedence() {
        let e = parse("not (A eq 1 or A eq 2) and B le -3.5").unwrap();
        assert_eq!(
            e,
            Expr::And(
                Box::new(Expr::Not(Box::new(Expr::Or(
                    Box::new(cmp(
                        "A",
                        CmpOp::Eq,
                        Operand::Literal(Literal::Number(dec!(1)))
                    )),
                    Box::new(cmp(
                        "A",
                        CmpOp::Eq,
                        Operand::Literal(Literal::Number(dec!(2)))
                    ))
                )))),
                Box::new(cmp(
                    "B",
                    CmpOp::Le,
                    Operand::Literal(Literal::Number(dec!(-3.5)))
                ))
            )
        );
    }

    #[test]
    fn doubled_quotes_escape_a_quote_in_string_literals() {
        let e = parse("CardName eq 'O''Brien'").unwrap();
        assert_eq!(e, cmp("CardName", CmpOp::Eq, text("O'Brien")));
    }

    #[test]
    fn string_functions_normalise_to_haystack_then_needle() {
        assert_eq!(
            parse("startswith(ItemCode,'MH')").unwrap(),
            Expr::Call(StringFn::StartsWith, prop("ItemCode"), text("MH"))
        );
        assert_eq!(
            parse("substringof('Hoodie', ItemName)").unwrap(),
            Expr::Call(StringFn::Contains, prop("ItemName"), text("Hoodie"))
        );
        assert_eq!(
            parse("endswith(ItemCode,'Blue') eq false").unwrap(),
            Expr::Not(Box::new(Expr::Call(
                StringFn::EndsWith,
                prop("ItemCode"),
                text("Blue")
            )))
        );
    }

    #[test]
    fn literals_cover_null_booleans_dates_and_typed_numbers() {
        assert_eq!(
            parse("NumAtCard eq null").unwrap(),
            cmp("NumAtCard", CmpOp::Eq, Operand::Literal(Literal::Null))
        );
        assert_eq!(
            parse("UpdateDate ge datetime'2014-04-23'").unwrap(),
            cmp("UpdateDate", CmpOp::Ge, text("2014-04-23"))
        );
        assert_eq!(
            parse("DocTotal gt 10.5m").unwrap(),
            cmp(
                "DocTotal",
                CmpOp::Gt,
                Operand::Literal(Literal::Number(dec!(10.5)))
            )
        );
    }

    #[test]
    fn lambdas_arithmetic_and_garbage_are_refused() {
        for bad in [
            "DocumentLines/any(d: d/BaseEntry eq 1)",
            "DocTotal add 1 eq 2",
            "A eq",
            "A eq 'unterminated",
            "(A eq 1",
            "A eq 1 B eq 2",
            "tolower(A) eq 'x'",
            "",
        ] {
            assert!(parse(bad).is_err(), "accepted: {bad}");
        }
    }

    #[test]
    fn required_equality_finds_an_indexable_conjunct() {
        let e = parse("DocumentStatus eq 'bost_Open' and NumAtCard eq '000000013'").unwrap();
        assert_eq!(e.required_equality("NumAtCard"), Some("000000013"));
        let e = parse("NumAtCard eq '1' or NumAtCard eq '2'").unwrap();
        assert_eq!(e.required_equality("NumAtCard"), None);
        let e = parse("(NumAtCard eq '1' or NumAtCard eq '2') and Cancelled eq 'tNO'").unwrap();
        assert_eq!(e.required_values("NumAtCard"), Some(vec!["1", "2"]));
        let e = parse("NumAtCard eq '1' or CardCode eq 'C1'").unwrap();
        assert_eq!(e.required_values("NumAtCard"), None);
        assert_eq!(
            parse("A eq 1 and startswith(B,'x')").unwrap().properties(),
            vec!["A", "B"]
        );
    }
}
