package store

import (
	"context"
	"fmt"
	"strings"
)

// conds collects the conditions of a list query and their arguments.
type conds struct {
	where []string
	args  []any
}

// add appends one condition with its placeholders' arguments.
func (c *conds) add(cond string, args ...any) {
	c.where = append(c.where, cond)
	c.args = append(c.args, args...)
}

// addEq appends "col = ?" when v is set: a zero filter field does not filter.
func (c *conds) addEq(col, v string) {
	if v != "" {
		c.add(col+" = ?", v)
	}
}

// listQuery is one page of a list: SELECT columns FROM table, the
// conditions ANDed, in order, at most limit rows.
type listQuery struct {
	what    string // names the operation in errors ("list approvals")
	columns string
	table   string
	conds   conds
	order   string
	limit   int
}

// list runs q and scans each row with scan. A limit out of (0,
// MaxListLimit] is MaxListLimit: no caller can ask for the whole table.
// The limit is formatted into the query (it is an int, never input
// text); every value is a placeholder argument.
func list[T any](ctx context.Context, s *SQL, q listQuery, scan func(scanner) (T, error)) ([]T, error) {
	limit := q.limit
	if limit <= 0 || limit > MaxListLimit {
		limit = MaxListLimit
	}
	query := `SELECT ` + q.columns + ` FROM ` + q.table
	if len(q.conds.where) > 0 {
		query += ` WHERE ` + strings.Join(q.conds.where, " AND ")
	}
	query += fmt.Sprintf(` ORDER BY %s LIMIT %d`, q.order, limit)
	rows, err := s.db.QueryContext(ctx, s.q(query), q.conds.args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", q.what, err)
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", q.what, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", q.what, err)
	}
	return out, nil
}
