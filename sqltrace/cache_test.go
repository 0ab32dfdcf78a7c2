package sqltrace

import (
	"strconv"
	"strings"
	"testing"
)

func TestQueryCache_BoundedAndKeepsWhatIsUsed(t *testing.T) {
	c := newQueryCache(100)
	const hot = "SELECT qty FROM inventory WHERE sku = $1"
	first := c.get(hot)
	for i := range 1000 {
		c.get("SELECT " + strconv.Itoa(i) + " FROM t")
		if n := c.len(); n > 100 {
			t.Fatalf("after %d texts the cache holds %d, want at most 100", i, n)
		}
		if i%20 == 0 && c.get(hot) != first {
			t.Fatalf("a text in use was re-analysed after %d others", i)
		}
	}
}

func TestQueryCache_LongTextsAreNotKept(t *testing.T) {
	c := newQueryCache(100)
	long := "SELECT * FROM t WHERE a IN (" + strings.Repeat("1, ", maxCachedSQL/3) + "1)"
	if got := c.get(long); got.summary != "SELECT t" || c.len() != 0 {
		t.Errorf("summary %q, cache len %d", got.summary, c.len())
	}
}
