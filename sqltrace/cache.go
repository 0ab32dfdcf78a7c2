package sqltrace

import "sync"

// maxCachedSQL is the longest SQL text kept in the cache. Longer texts (bulk
// inserts built at run time, mostly) are analysed on every call instead of
// pinning their memory.
const maxCachedSQL = 16 << 10

// queryCache maps SQL texts to their analysis. It holds at most size entries
// in two generations: lookups hit either, inserts go to the young one, and
// when the young one is full the old one is dropped. A text in use survives
// (a hit in the old generation moves it to the young one), a text seen once
// is forgotten after two rotations. A hit takes a read lock and allocates
// nothing.
type queryCache struct {
	mu       sync.RWMutex
	young    map[string]*analysis
	old      map[string]*analysis
	capacity int // per generation

	// spanName is [WithSpanNameFunc]'s function, called on a miss.
	spanName func(sql string) string
}

func newQueryCache(size int) *queryCache {
	c := &queryCache{capacity: max(size/2, 1)}
	c.young = make(map[string]*analysis, c.capacity)
	return c
}

func (c *queryCache) get(sql string) *analysis {
	c.mu.RLock()
	a, young := c.young[sql]
	if !young {
		a = c.old[sql]
	}
	c.mu.RUnlock()
	if young {
		return a
	}
	if a == nil {
		a = analyze(sql)
		if c.spanName != nil {
			if n := c.spanName(sql); n != "" {
				a.named(n)
			}
		}
		if len(sql) > maxCachedSQL {
			return a
		}
	}
	c.mu.Lock()
	if len(c.young) >= c.capacity {
		c.old, c.young = c.young, make(map[string]*analysis, c.capacity)
	}
	c.young[sql] = a
	c.mu.Unlock()
	return a
}

func (c *queryCache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.young) + len(c.old)
}
