//! B1 enumerations. The Service Layer accepts an enum's name or its stored one-letter value
//! (`tYES` or `Y`, `cCustomer` or `C`) in bodies and in `$filter`, and always answers with the
//! name (reference §10).
use serde::{Deserialize, Serialize};

macro_rules! b1_enum {
    ($(#[$doc:meta])* $name:ident { $($variant:ident = $wire:literal / $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "&'static str")]
        pub enum $name {
            $($variant),+
        }

        impl $name {
            const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The name the Service Layer answers with.
            pub fn name(self) -> &'static str {
                match self { $($name::$variant => $wire),+ }
            }

            /// The value stored in the database column, also accepted on input.
            pub fn code(self) -> &'static str {
                match self { $($name::$variant => $code),+ }
            }

            /// Accepts the name or the stored value, exactly as spelled.
            pub fn parse(raw: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.name() == raw || v.code() == raw)
            }
        }

        /// The first variant listed; only used to describe the entity's shape.
        impl Default for $name {
            fn default() -> Self {
                Self::ALL[0]
            }
        }

        impl TryFrom<String> for $name {
            type Error = String;
            fn try_from(raw: String) -> Result<Self, String> {
                Self::parse(&raw).ok_or_else(|| {
                    format!("'{raw}' is not a valid value for {}", stringify!($name))
                })
            }
        }

        impl From<$name> for &'static str {
            fn from(v: $name) -> &'static str {
                v.name()
            }
        }
    };
}

b1_enum!(
    /// `BoYesNoEnum`.
    YesNo { No = "tNO" / "N", Yes = "tYES" / "Y" }
);
b1_enum!(
    /// `BoCardTypes`.
    CardType { Customer = "cCustomer" / "C", Supplier = "cSupplier" / "S", Lead = "cLid" / "L" }
);
b1_enum!(
    /// `BoStatus` (document and line status).
    DocStatus {
        Open = "bost_Open" / "O",
        Close = "bost_Close" / "C",
        Paid = "bost_Paid" / "P",
        Delivered = "bost_Delivered" / "D",
    }
);
b1_enum!(
    /// `CancelStatusEnum`: `csYes` on a cancelled document, `csCancellation` on the document
    /// that cancels it.
    CancelStatus { No = "csNo" / "N", Yes = "csYes" / "Y", Cancellation = "csCancellation" / "C" }
);
b1_enum!(
    /// `BoDocumentTypes`.
    DocType { Items = "dDocument_Items" / "I", Service = "dDocument_Service" / "S" }
);
b1_enum!(
    /// `BoAddressType`.
    AddressType { ShipTo = "bo_ShipTo" / "S", BillTo = "bo_BillTo" / "B" }
);
b1_enum!(
    /// `BoObjectTypes` for the documents the simulator keeps (`DocObjectCode`).
    DocObject { Orders = "oOrders" / "17", DeliveryNotes = "oDeliveryNotes" / "15", Invoices = "oInvoices" / "13", CreditNotes = "oCreditNotes" / "14" }
);

impl From<bool> for YesNo {
    fn from(b: bool) -> Self {
        if b {
            YesNo::Yes
        } else {
            YesNo::No
        }
    }
}

impl YesNo {
    pub fn is_yes(self) -> bool {
        self == YesNo::Yes
    }

    /// For `#[serde(default = …)]` of flags whose B1 default is yes.
    pub fn yes() -> Self {
        YesNo::Yes
    }
}

/// The stored value of an enum *name* from any enum above; `$filter` uses it so that
/// `CardType eq 'C'` matches an entity whose `CardType` reads `cCustomer`. Names are unique
/// across B1 enums, so no property type is needed.
pub fn code_of_name(name: &str) -> Option<&'static str> {
    fn find<E: Copy>(
        all: &[E],
        name: &str,
        n: fn(E) -> &'static str,
        c: fn(E) -> &'static str,
    ) -> Option<&'static str> {
        all.iter().copied().find(|v| n(*v) == name).map(c)
    }
    find(YesNo::ALL, name, YesNo::name, YesNo::code)
        .or_else(|| find(CardType::ALL, name, CardType::name, CardType::code))
        .or_else(|| find(DocStatus::ALL, name, DocStatus::name, DocStatus::code))
        .or_else(|| {
            find(
                CancelStatus::ALL,
                name,
                CancelStatus::name,
                CancelStatus::code,
            )
        })
        .or_else(|| find(DocType::ALL, name, DocType::name, DocType::code))
        .or_else(|| find(AddressType::ALL, name, AddressType::name, AddressType::code))
        .or_else(|| find(DocObject::ALL, name, DocObject::name, DocObject::code))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_accept_name_or_stored_value_and_answer_with_the_name() {
        assert_eq!(YesNo::parse("tYES"), Some(YesNo::Yes));
        assert_eq!(YesNo::parse("Y"), Some(YesNo::Yes));
        assert_eq!(CardType::parse("C"), Some(CardType::Customer));
        assert_eq!(YesNo::parse("yes"), None);
        let json = serde_json::to_string(&CardType::Customer).unwrap();
        assert_eq!(json, "\"cCustomer\"");
        let back: CardType = serde_json::from_str("\"C\"").unwrap();
        assert_eq!(back, CardType::Customer);
    }

    #[test]
    fn enum_names_map_to_their_stored_values() {
        assert_eq!(code_of_name("cCustomer"), Some("C"));
        assert_eq!(code_of_name("bost_Close"), Some("C"));
        assert_eq!(code_of_name("tNO"), Some("N"));
        assert_eq!(code_of_name("Roni"), None);
    }
}
b1_enum!(
    /// `BoRcptTypes`: whom a payment is with.
    RcptType { Customer = "rCustomer" / "C", Account = "rAccount" / "A", Supplier = "rSupplier" / "S" }
);
b1_enum!(
    /// `BoRcptInvTypes`: the kind of document a payment line is applied to.
    RcptInvType { CreditNote = "it_CredItnote" / "14", Invoice = "it_Invoice" / "13", Return = "it_Return" / "16" }
);
