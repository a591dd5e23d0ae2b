//! Typed Service Layer payloads: requests are exact (`Decimal` as JSON numbers, absent
//! options omitted); responses are read tolerantly (see [`lenient`]).
mod company;
mod document;
mod from_domain;
mod item;
pub(crate) mod lenient;
mod partner;
mod payment;
mod price;

pub use company::{AdminInfo, DocumentSeries, VatGroup, VatGroupLine};
pub use document::{
    AddressExtension, DeliveryNote, DocEntry, Document, DocumentExpense, DocumentLine,
    DocumentStatus, Invoice, NewAdditionalExpense, NewCreditNote, NewCreditNoteLine,
    NewDocumentLine, NewSalesOrder, PreviewDocument, PreviewExpense, PreviewLine, SalesOrder,
    OBJECT_TYPE_DELIVERY, OBJECT_TYPE_INVOICE, OBJECT_TYPE_ORDER,
};
pub(crate) use document::{DOCUMENT_FIELDS, INVOICE_FIELDS};
pub(crate) use item::ITEM_FIELDS;
pub use item::{AdditionalExpense, Item, ItemWarehouseInfo, SalesTaxCode, Warehouse};
pub(crate) use partner::BUSINESS_PARTNER_FIELDS;
pub use partner::{AddressType, BusinessPartner, CardType, NewBpAddress, NewBusinessPartner};
pub(crate) use payment::OUTGOING_PAYMENT_FIELDS;
pub use payment::{
    NewOutgoingPayment, NewPaymentInvoice, OrderLineQuantity, OrderLinesPatch, OutgoingPayment,
    PaymentInvoice, APPLIED_TO_CREDIT_NOTE, PAYMENT_TO_CUSTOMER,
};
pub use price::{ItemPrice, PriceList, PricedItem, SpecialPrice, SpecialPricePeriod};
pub(crate) use price::{PRICED_ITEM_FIELDS, PRICE_LIST_FIELDS, SPECIAL_PRICE_FIELDS};
