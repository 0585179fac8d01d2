"""The offline model's extraction rules, by topic (self, people, tastes, events), on shared
clause and date machinery."""
