"""The clause knowledge base: policy documents as data, their loading, checking and search."""
from knowledge.loader import DEFAULT_DIR, KnowledgeBaseError, check, load, read
from knowledge.model import Clause, Document, KnowledgeBase

__all__ = ["DEFAULT_DIR", "Clause", "Document", "KnowledgeBase", "KnowledgeBaseError", "check", "load", "read"]
